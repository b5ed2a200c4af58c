"""MiniLogin's shared library: the one place services take common code from."""
