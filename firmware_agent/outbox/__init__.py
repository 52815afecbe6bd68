"""Store-and-forward outbox: the Protocol and its SQLite implementation."""
