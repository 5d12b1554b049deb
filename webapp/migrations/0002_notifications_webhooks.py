"""Notifications for people, and the log of TikTok webhook deliveries (for idempotency)."""

from peewee import *  # noqa: F403


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Notification(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        kind = CharField(max_length=48)
        message = TextField()
        link = CharField(max_length=500, default="")
        read_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notification"
            indexes = ((("user", "read_at"), False),)

    class WebhookEvent(Model):
        digest = CharField(max_length=64, unique=True)
        event = CharField(max_length=64)
        user_openid = CharField(max_length=128, default="")
        payload = TextField(null=True)
        received_at = DateTimeField()
        handled_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "webhook_event"

    db.create_tables([Notification, WebhookEvent])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("webhook_event"))
    migrator.migrate(migrator.drop_table("notification"))
