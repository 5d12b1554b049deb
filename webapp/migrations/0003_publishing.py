"""Publishing: what a post target needs to go out exactly once and be followed to the end."""

from peewee import *  # noqa: F403

COLUMNS = [
    ("phase", lambda: CharField(max_length=32, default="")),
    ("source", lambda: CharField(max_length=16, default="")),
    ("upload_url_enc", lambda: TextField(null=True)),
    ("chunk_size", lambda: BigIntegerField(default=0)),
    ("init_started_at", lambda: DateTimeField(null=True)),
    ("initialized_at", lambda: DateTimeField(null=True)),
    ("next_check_at", lambda: DateTimeField(null=True)),
    ("checks", lambda: IntegerField(default=0)),
    ("tiktok_status", lambda: CharField(max_length=32, default="")),
    ("retryable", lambda: BooleanField(default=False)),
]


def up(migrator, db):
    migrator.migrate(*(migrator.add_column("post_target", n, f()) for n, f in COLUMNS))
    migrator.migrate(migrator.add_index("post_target", ("status", "next_check_at"), False))
    migrator.migrate(migrator.add_index("post", ("created_at",), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("post", "post_created_at"))
    migrator.migrate(migrator.drop_index("post_target", "post_target_status_next_check_at"))
    migrator.migrate(*(migrator.drop_column("post_target", n) for n, _ in COLUMNS))
