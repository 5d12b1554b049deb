"""Indexes that keep the Posts list, the Calendar and the Dashboard fast with a long history.

Every one of these pages reads a few rows in the order of an index, whatever the number of
posts: the Posts list by (created_at, id) with or without the author and the status in front
(keyset pages), the Calendar by scheduled_at within a day (status read from the index), the
Dashboard by (author, status, time). (created_at) alone is replaced by (created_at, id).
"""

from peewee import *  # noqa: F403

INDEXES = [
    ("created_at", "id"),
    ("status", "created_at", "id"),
    ("author_id", "created_at", "id"),
    ("author_id", "status", "created_at", "id"),
    ("scheduled_at", "status"),
    ("author_id", "scheduled_at", "status"),
    ("author_id", "status", "scheduled_at"),
    ("author_id", "status", "updated_at"),
]


def up(migrator, db):
    migrator.migrate(migrator.drop_index("post", "post_created_at"))
    migrator.migrate(*(migrator.add_index("post", columns, False) for columns in INDEXES))


def down(migrator, db):
    migrator.migrate(
        *(migrator.drop_index("post", "post_" + "_".join(columns)) for columns in INDEXES)
    )
    migrator.migrate(migrator.add_index("post", ("created_at",), False))
