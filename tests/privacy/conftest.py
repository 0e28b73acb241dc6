"""The PostgreSQL fixtures of the store tests, for the privacy tests that run on every store."""

from tests.store.conftest import postgres_database, postgres_url

__all__ = ["postgres_database", "postgres_url"]
