"""`make bench`: an open-loop load generator for MiniLogin against the real topology.

`topology` starts the services as separate processes over RabbitMQ, Redis and SecantusDB;
`loadgen` plays browsers and phones in its own process; `run` drives the scenarios and
samples CPU and memory from /proc; `report` writes `docs/benchmarks.md` and the plot."""
