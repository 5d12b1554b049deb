"""Public landing, privacy and terms pages, edited in Admin Console → Settings."""

from peewee import *  # noqa: F403

COLUMNS = [
    ("public_pages", lambda: BooleanField(default=False)),
    ("service_description", lambda: TextField(default="")),
    ("privacy_text", lambda: TextField(default="")),
    ("terms_text", lambda: TextField(default="")),
]


def up(migrator, db):
    migrator.migrate(*(migrator.add_column("app_settings", n, f()) for n, f in COLUMNS))


def down(migrator, db):
    migrator.migrate(*(migrator.drop_column("app_settings", n) for n, _ in COLUMNS))
