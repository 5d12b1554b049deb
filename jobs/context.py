"""What a job needs before it touches the database: settings, the DB binding, the keyring."""

from __future__ import annotations

from functools import lru_cache

from webapp import config as cfg


@lru_cache(maxsize=1)
def settings() -> dict:
    """Load and check the settings once per worker process, then bind DB and keyring."""
    return cfg.prepare_process()
