"""Posts, the per-account targets that carry them to TikTok, and their timeline."""

from __future__ import annotations

import peewee as pw

from webapp import crypto
from webapp.models.accounts import Account
from webapp.models.base import BaseModel, JSONField, TimestampedModel, utcnow
from webapp.models.media import Media
from webapp.models.users import User
from webapp.models.workspaces import Workspace
from webapp.publishing import states

# The statuses, their labels and rules belong to the publishing package's states module.
POST_STATUSES = {str(status): label for status, label in states.LABELS.items()}
FINAL_STATUSES = states.FINAL_STATUSES


class Post(TimestampedModel):
    """What a user composed: caption, media and when it goes out."""

    workspace = pw.ForeignKeyField(Workspace, backref="posts", on_delete="RESTRICT")
    author = pw.ForeignKeyField(User, backref="posts", on_delete="RESTRICT")
    post_type = pw.CharField(max_length=8, default="video")  # video | photo
    caption = pw.TextField(default="")  # video caption, or photo title
    description = pw.TextField(default="")  # photo posts only
    cover_timestamp_ms = pw.IntegerField(null=True)
    photo_cover_index = pw.IntegerField(default=0)
    status = pw.CharField(max_length=24, default="draft")
    scheduled_at = pw.DateTimeField(null=True)  # UTC
    consent_at = pw.DateTimeField(null=True)  # when the user clicked Post now / Schedule
    # Approval (workspaces that require it): who submitted it, who approved it (their click is
    # the consent), and the note of a manager who sent it back.
    submitted_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    submitted_at = pw.DateTimeField(null=True)
    approved_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    approved_at = pw.DateTimeField(null=True)
    review_note = pw.TextField(default="")

    class Meta:
        indexes = (
            (("status", "scheduled_at"), False),
            # The Posts list (keyset pages), the Calendar and the Dashboard of a workspace:
            # migrations 0007 and 0008.
            (("created_at", "id"), False),
            (("status", "created_at", "id"), False),
            (("scheduled_at", "status"), False),
            (("workspace", "created_at", "id"), False),
            (("workspace", "status", "created_at", "id"), False),
            (("workspace", "scheduled_at", "status"), False),
            (("workspace", "status", "scheduled_at"), False),
            (("workspace", "status", "updated_at"), False),
        )

    @property
    def status_label(self) -> str:
        """Return the status as users read it ("Missed: …" for an approval whose time passed)."""
        return states.post_label(self.status, self.scheduled_at)

    @property
    def missed(self) -> bool:
        """Tell whether the post awaits approval past the time it asked for."""
        return states.missed(self.status, self.scheduled_at)


class PostMedia(BaseModel):
    """The ordered media of a post (one video, or up to 35 photos)."""

    post = pw.ForeignKeyField(Post, backref="media_links", on_delete="CASCADE")
    media = pw.ForeignKeyField(Media, backref="post_links", on_delete="RESTRICT")
    position = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("post", "position"), True),)


class PostTarget(TimestampedModel):
    """One post on one account, with the TikTok options chosen for that account."""

    post = pw.ForeignKeyField(Post, backref="targets", on_delete="CASCADE")
    account = pw.ForeignKeyField(Account, backref="targets", on_delete="RESTRICT")
    status = pw.CharField(max_length=24, default="draft")
    privacy_level = pw.CharField(max_length=32, null=True)
    allow_comment = pw.BooleanField(default=False)
    allow_duet = pw.BooleanField(default=False)
    allow_stitch = pw.BooleanField(default=False)
    disclose = pw.BooleanField(default=False)
    brand_organic = pw.BooleanField(default=False)
    brand_content = pw.BooleanField(default=False)
    is_aigc = pw.BooleanField(default=False)
    auto_add_music = pw.BooleanField(default=False)
    publish_id = pw.CharField(
        max_length=64, null=True, index=True, help_text="TikTok: publish init publish_id"
    )
    publicaly_available_post_id = pw.CharField(
        max_length=32, null=True, help_text="TikTok: status/fetch publicaly_available_post_id"
    )
    public_url = pw.TextField(default="")
    fail_reason = pw.CharField(
        max_length=64, default="", help_text="TikTok: status/fetch fail_reason"
    )
    error_code = pw.CharField(max_length=64, default="")
    error_message = pw.TextField(default="")
    attempts = pw.IntegerField(default=0)
    uploaded_bytes = pw.BigIntegerField(default=0, help_text="TikTok: status/fetch uploaded_bytes")
    total_bytes = pw.BigIntegerField(default=0)
    published_at = pw.DateTimeField(null=True)
    # Publishing: the phase within "publishing", and what makes a resume exact after a crash.
    phase = pw.CharField(max_length=32, default="")  # checking|initializing|uploading|processing
    source = pw.CharField(max_length=16, default="")  # FILE_UPLOAD | PULL_FROM_URL
    # encrypted: it is a capability for an hour
    upload_url_enc = pw.TextField(
        null=True, help_text="TikTok: video init upload_url (encrypted, cleared after upload)"
    )
    chunk_size = pw.BigIntegerField(default=0)
    init_started_at = pw.DateTimeField(null=True)  # committed before the init request leaves
    initialized_at = pw.DateTimeField(null=True)  # publish_id known
    next_check_at = pw.DateTimeField(null=True)
    checks = pw.IntegerField(default=0)
    tiktok_status = pw.CharField(max_length=32, default="", help_text="TikTok: status/fetch status")
    retryable = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("post", "account"), True), (("status", "next_check_at"), False))

    @property
    def status_label(self) -> str:
        """Return the status as users read it."""
        return states.target_label(self.status, self.privacy_level)

    @property
    def progress_percent(self) -> int:
        """Return how much of the video has been sent, in percent."""
        if not self.total_bytes:
            return 0
        return min(100, int(self.uploaded_bytes * 100 // self.total_bytes))

    def set_upload_url(self, url: str | None) -> None:
        """Store the upload URL encrypted (None clears it)."""
        self.upload_url_enc = crypto.keyring().encrypt(url) if url else None

    def upload_url(self) -> str:
        """Return the decrypted upload URL ('' when none)."""
        return crypto.keyring().decrypt(self.upload_url_enc) if self.upload_url_enc else ""


class PostEvent(BaseModel):
    """One line of a post's timeline (what happened, when, in plain words)."""

    post = pw.ForeignKeyField(Post, backref="events", on_delete="CASCADE")
    target = pw.ForeignKeyField(PostTarget, backref="events", null=True, on_delete="CASCADE")
    kind = pw.CharField(max_length=48)
    message = pw.TextField(default="")
    data = JSONField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("post", "created_at"), False),)
