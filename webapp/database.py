"""Bind the peewee proxy for the web app and open one connection per request."""

from __future__ import annotations

from flask import Flask, g

from webapp import crypto, mail
from webapp import db as dbmod
from webapp.config import old_secret_keys


def init_app(app: Flask) -> None:
    """Bind the database named by DATABASE_URL and manage connections per request."""
    database = dbmod.bind(app.config["DATABASE_URL"])
    app.extensions["database"] = database
    crypto.configure(app.config["SECRET_KEY"], old_secret_keys(app.config))
    mail.configure(app.config)

    @app.before_request
    def _connect() -> None:
        # Close at teardown only what this request opened (a CLI command or test may hold one).
        # A held connection whose server restarted is replaced, not reused.
        dbmod.drop_dead_connection(database)
        g.cadence_db_opened = database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(_exc) -> None:
        opened = g.pop("cadence_db_opened", False)
        if dbmod.drop_dead_connection(database):
            return
        if opened and not database.is_closed():
            database.close()
