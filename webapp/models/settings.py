"""Installation-wide settings and the TikTok service configuration (one row each)."""

from __future__ import annotations

import peewee as pw

from webapp import crypto
from webapp.models.base import BaseModel, utcnow

SHARE_TYPES = {"direct_post": "Direct Post", "inbox": "Upload as draft"}
UPLOAD_METHODS = {
    "FILE_UPLOAD": "Upload the file (FILE_UPLOAD)",
    "PULL_FROM_URL": "TikTok pulls from a verified URL (PULL_FROM_URL)",
}


class _Singleton(BaseModel):
    updated_at = pw.DateTimeField(default=utcnow)

    @classmethod
    def load(cls):
        """Return the single row, creating it with defaults the first time."""
        row = cls.get_or_none(cls.id == 1)
        if row is None:
            row, _ = cls.get_or_create(id=1)
        return row

    def save(self, *args, **kwargs):
        """Save, stamping updated_at."""
        self.updated_at = utcnow()
        return super().save(*args, **kwargs)


class AppSettings(_Singleton):
    """What the operator tells Cadence about the installation."""

    app_name = pw.CharField(max_length=80, default="Cadence")
    website_url = pw.CharField(max_length=500, default="")
    privacy_url = pw.CharField(max_length=500, default="")
    terms_url = pw.CharField(max_length=500, default="")
    support_email = pw.CharField(max_length=254, default="")
    timezone = pw.CharField(max_length=64, default="UTC")


class TikTokService(_Singleton):
    """The operator's TikTok app: credentials and how posts are delivered."""

    client_key = pw.CharField(max_length=128, default="")
    client_secret_enc = pw.TextField(null=True)
    share_type = pw.CharField(max_length=16, default="direct_post")
    upload_method = pw.CharField(max_length=16, default="FILE_UPLOAD")
    media_url_prefix = pw.CharField(max_length=500, default="")
    # Empty: the configured TIKTOK_*_BASE_URL (TikTok itself unless the operator says otherwise).
    auth_base_url = pw.CharField(max_length=500, default="")
    api_base_url = pw.CharField(max_length=500, default="")
    audited = pw.BooleanField(default=False)

    class Meta:
        table_name = "tiktok_service"

    @property
    def has_client_secret(self) -> bool:
        """Tell whether a client secret is stored."""
        return bool(self.client_secret_enc)

    @property
    def is_configured(self) -> bool:
        """Tell whether accounts can be connected: key and secret are both set."""
        return bool(self.client_key) and self.has_client_secret

    def set_client_secret(self, secret: str) -> None:
        """Store the client secret encrypted."""
        self.client_secret_enc = crypto.keyring().encrypt(secret) if secret else None

    def client_secret(self) -> str:
        """Return the decrypted client secret ('' when none is stored)."""
        if not self.client_secret_enc:
            return ""
        return crypto.keyring().decrypt(self.client_secret_enc)

    def effective_auth_base_url(self, settings: dict) -> str:
        """Return the OAuth host in use: this row's override, else the configured default."""
        return (self.auth_base_url or settings["TIKTOK_AUTH_BASE_URL"]).rstrip("/")

    def effective_api_base_url(self, settings: dict) -> str:
        """Return the API host in use: this row's override, else the configured default."""
        return (self.api_base_url or settings["TIKTOK_API_BASE_URL"]).rstrip("/")
