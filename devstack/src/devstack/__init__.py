"""The embedded default: the whole system in one process for development and demos."""
