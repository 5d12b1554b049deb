"""All tables of Cadence; `MODELS` lists them in dependency order for migrations and tests."""

from webapp.models.accounts import ACCOUNT_STATUSES, Account
from webapp.models.base import BaseModel, JSONField, utcnow
from webapp.models.media import Media
from webapp.models.notifications import Notification, WebhookEvent
from webapp.models.posts import POST_STATUSES, Post, PostEvent, PostMedia, PostTarget
from webapp.models.settings import (
    SHARE_TYPES,
    UPLOAD_METHODS,
    AppSettings,
    AuditKit,
    TikTokService,
)
from webapp.models.users import MIN_PASSWORD_LENGTH, ROLES, User, normalize_email
from webapp.models.workspaces import Invitation, Membership, Workspace

MODELS = [
    User,
    Workspace,
    Membership,
    Invitation,
    AppSettings,
    TikTokService,
    Account,
    Media,
    Post,
    PostMedia,
    PostTarget,
    PostEvent,
    Notification,
    WebhookEvent,
    AuditKit,
]

# Columns holding ciphertext, re-encrypted by `flask secrets rotate`.
ENCRYPTED_COLUMNS = [
    (TikTokService, "client_secret_enc"),
    (Account, "access_token_enc"),
    (Account, "refresh_token_enc"),
    (PostTarget, "upload_url_enc"),
    (AuditKit, "demo_password_enc"),
]

__all__ = [
    "ACCOUNT_STATUSES",
    "ENCRYPTED_COLUMNS",
    "MIN_PASSWORD_LENGTH",
    "MODELS",
    "POST_STATUSES",
    "ROLES",
    "SHARE_TYPES",
    "UPLOAD_METHODS",
    "Account",
    "AppSettings",
    "AuditKit",
    "BaseModel",
    "JSONField",
    "Invitation",
    "Media",
    "Membership",
    "Notification",
    "Post",
    "PostEvent",
    "PostMedia",
    "PostTarget",
    "TikTokService",
    "User",
    "WebhookEvent",
    "Workspace",
    "normalize_email",
    "utcnow",
]
