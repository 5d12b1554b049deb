"""In-app notifications and the record of TikTok webhook deliveries already handled."""

from __future__ import annotations

import peewee as pw

from webapp.models.base import BaseModel, JSONField, utcnow
from webapp.models.users import User
from webapp.models.workspaces import Workspace


class Notification(BaseModel):
    """Something a person should know about (an account needing reconnection, a failed post)."""

    user = pw.ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    # The workspace it is about (none: about the installation, e.g. for admins).
    workspace = pw.ForeignKeyField(Workspace, null=True, backref="+", on_delete="CASCADE")
    kind = pw.CharField(max_length=48)
    message = pw.TextField()
    link = pw.CharField(max_length=500, default="")
    read_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "read_at"), False),)


class WebhookEvent(BaseModel):
    """A TikTok webhook delivery, kept so a redelivery is recognised and ignored."""

    digest = pw.CharField(max_length=64, unique=True)  # sha256 of the raw body
    event = pw.CharField(max_length=64)
    user_openid = pw.CharField(max_length=128, default="")
    payload = JSONField(null=True)
    received_at = pw.DateTimeField(default=utcnow)
    handled_at = pw.DateTimeField(null=True)
