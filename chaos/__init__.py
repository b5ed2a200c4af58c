"""The fault-injection suite (make chaos): complete logins under a steady load over the local
cluster while one fault at a time hits it, each login followed to its fate (chaos.fates);
the report is docs/reliability.md."""
