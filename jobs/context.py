"""What a job needs before it touches the database: settings, the DB binding, the keyring."""

from __future__ import annotations

from functools import lru_cache

from webapp import config as cfg
from webapp import crypto, mail
from webapp import db as dbmod


@lru_cache(maxsize=1)
def settings() -> dict:
    """Load and check the settings once per worker process, then bind DB and keyring."""
    loaded = cfg.load()
    cfg.fill_secret_key(loaded)
    cfg.check(loaded)
    dbmod.bind(loaded["DATABASE_URL"])
    crypto.configure(loaded["SECRET_KEY"], cfg.old_secret_keys(loaded))
    mail.configure(loaded)
    return loaded
