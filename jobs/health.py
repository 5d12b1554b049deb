"""A job that proves a worker is alive and reaches the database."""

from __future__ import annotations

from jobs import context
from webapp.db import connected
from webapp.models import User


def ping() -> dict:
    """Return how many users the worker sees (a round trip through the queue and the database)."""
    context.settings()
    with connected():
        return {"users": User.select().count()}
