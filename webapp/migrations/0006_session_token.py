"""Each user's session token: what sign-in cookies carry, changed to end all of that user's sessions."""

import secrets

from peewee import *  # noqa: F403


def up(migrator, db):
    class User(Model):
        session_token = CharField(max_length=64, null=True)

        class Meta:
            database = db
            table_name = "user"

    migrator.migrate(migrator.add_column("user", "session_token", User.session_token))
    # Everyone signed in before this change signs in once more (their cookies hold the old ids).
    for user in User.select(User.id):
        User.update(session_token=secrets.token_urlsafe(32)).where(User.id == user.id).execute()
    migrator.migrate(
        migrator.add_not_null("user", "session_token"),
        migrator.add_index("user", ("session_token",), True),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "session_token"))
