"""Workspaces (one customer, brand or team), who belongs to them, and invitations to join."""

from __future__ import annotations

import peewee as pw

from webapp.models.base import BaseModel, TimestampedModel, utcnow
from webapp.models.users import User


class Workspace(TimestampedModel):
    """What a team shares: TikTok accounts, media, posts and their notifications.

    The slug names the workspace in every URL; it is chosen once, when the workspace is
    created, so links stay valid when the workspace is renamed.
    """

    name = pw.CharField(max_length=80)
    slug = pw.CharField(max_length=48, unique=True)
    # When on, an editor's Post now / Schedule waits for a manager's approval.
    approval_required = pw.BooleanField(default=False)


class Membership(BaseModel):
    """One person in one workspace, with their role there (webapp.workspaces.roles)."""

    workspace = pw.ForeignKeyField(Workspace, backref="memberships", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    role = pw.CharField(max_length=16)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("workspace", "user"), True), (("user", "workspace"), False))


class Invitation(BaseModel):
    """A single-use link to join a workspace; only a digest of its secret is stored."""

    workspace = pw.ForeignKeyField(Workspace, backref="invitations", on_delete="CASCADE")
    email = pw.CharField(max_length=254)
    role = pw.CharField(max_length=16)
    token_digest = pw.CharField(max_length=64, unique=True)
    invited_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    used_at = pw.DateTimeField(null=True)
    used_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    revoked_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("workspace", "email"), False),)
