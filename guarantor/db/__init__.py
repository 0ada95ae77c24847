"""Storage: the engine and session, the declarative base, and the Alembic migrations."""
