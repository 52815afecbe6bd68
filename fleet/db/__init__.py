"""SQL storage (SQLAlchemy Core) shared by the registry, twins, votes and users."""
