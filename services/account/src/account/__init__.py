"""account: turns confirmed tickets into accounts and authorization codes; serves OIDC and
the admin API for connections and apps."""
