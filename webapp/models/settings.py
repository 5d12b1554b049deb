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
    # Public pages TikTok's app review asks for (/about, /privacy, /terms), off until enabled.
    public_pages = pw.BooleanField(default=False)
    service_description = pw.TextField(default="")
    privacy_text = pw.TextField(default="")
    terms_text = pw.TextField(default="")


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


class AuditKit(_Singleton):
    """The applicant's answers for TikTok's Direct Post audit (Admin Console → Audit Kit)."""

    full_name = pw.CharField(max_length=120, default="")
    org_name = pw.CharField(max_length=160, default="")
    org_website = pw.CharField(max_length=500, default="")
    app_id = pw.CharField(max_length=64, default="")
    org_description = pw.TextField(default="")
    customers = pw.IntegerField(default=0)
    accounts_per_customer = pw.IntegerField(default=0)
    videos_per_account_per_day = pw.IntegerField(default=0)
    instance_public = pw.BooleanField(default=False)
    demo_url = pw.CharField(max_length=500, default="")
    demo_email = pw.CharField(max_length=254, default="")
    demo_password_enc = pw.TextField(null=True)
    answers_edited = pw.TextField(default="")  # the answers as the applicant edited them (Markdown)

    def set_demo_password(self, password: str | None) -> None:
        """Store the demo password encrypted (None or '' clears it)."""
        self.demo_password_enc = crypto.keyring().encrypt(password) if password else None

    def demo_password(self) -> str:
        """Return the decrypted demo password ('' when none)."""
        return crypto.keyring().decrypt(self.demo_password_enc) if self.demo_password_enc else ""

    @property
    def daily_videos(self) -> int:
        """Return the estimated videos a day: customers × accounts × videos per account."""
        return self.customers * self.accounts_per_customer * self.videos_per_account_per_day
