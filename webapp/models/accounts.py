"""Connected TikTok accounts and their (encrypted) OAuth tokens."""

from __future__ import annotations

import peewee as pw

from webapp import crypto
from webapp.models.base import TimestampedModel
from webapp.models.users import User
from webapp.models.workspaces import Workspace

ACCOUNT_STATUSES = {
    "connected": "Connected",
    "reconnect_needed": "Reconnect needed",
    "disconnected": "Disconnected",
}


def handle_of(username: str, display_name: str = "") -> str:
    """Return an account as people recognise it: "@username", or its display name when TikTok
    gave no username (the one place this is spelled)."""
    return f"@{username}" if username else (display_name or "this account")


class Account(TimestampedModel):
    """A TikTok account a user connected through OAuth (unique by open_id per installation)."""

    workspace = pw.ForeignKeyField(Workspace, backref="accounts", on_delete="RESTRICT")
    # Who connected it (the workspace's managers look after it).
    owner = pw.ForeignKeyField(User, backref="accounts", on_delete="RESTRICT")
    provider = pw.CharField(max_length=16, default="tiktok")
    open_id = pw.CharField(max_length=128, help_text="TikTok: user.info open_id")
    union_id = pw.CharField(max_length=128, default="", help_text="TikTok: user.info union_id")
    username = pw.CharField(max_length=128, default="", help_text="TikTok: user.info username")
    display_name = pw.CharField(
        max_length=255, default="", help_text="TikTok: user.info display_name"
    )
    avatar_url = pw.TextField(default="", help_text="TikTok: user.info avatar_url")
    scopes = pw.CharField(max_length=500, default="", help_text="TikTok: oauth/token scope")
    status = pw.CharField(max_length=24, default="connected")
    status_reason = pw.TextField(default="")
    access_token_enc = pw.TextField(
        null=True, help_text="TikTok: oauth/token access_token (encrypted)"
    )
    access_token_expires_at = pw.DateTimeField(
        null=True, help_text="TikTok: oauth/token expires_in (as a time)"
    )
    refresh_token_enc = pw.TextField(
        null=True, help_text="TikTok: oauth/token refresh_token (encrypted)"
    )
    refresh_token_expires_at = pw.DateTimeField(
        null=True, help_text="TikTok: oauth/token refresh_expires_in (as a time)"
    )
    last_checked_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("provider", "open_id"), True),)

    @property
    def handle(self) -> str:
        """Return how people recognise the account: "@username", or its display name."""
        return handle_of(self.username, self.display_name)

    @property
    def status_label(self) -> str:
        """Return the status as users read it."""
        return ACCOUNT_STATUSES.get(self.status, self.status)

    @property
    def scope_set(self) -> set[str]:
        """Return the granted scopes as a set."""
        return {s for s in self.scopes.split(",") if s}

    def set_tokens(self, access_token: str | None, refresh_token: str | None) -> None:
        """Store both tokens encrypted (None clears one)."""
        ring = crypto.keyring()
        self.access_token_enc = ring.encrypt(access_token) if access_token else None
        self.refresh_token_enc = ring.encrypt(refresh_token) if refresh_token else None

    def access_token(self) -> str:
        """Return the decrypted access token ('' when none)."""
        return crypto.keyring().decrypt(self.access_token_enc) if self.access_token_enc else ""

    def refresh_token(self) -> str:
        """Return the decrypted refresh token ('' when none)."""
        return crypto.keyring().decrypt(self.refresh_token_enc) if self.refresh_token_enc else ""
