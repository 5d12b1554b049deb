"""Uploaded videos and images with the properties ffmpeg found in them."""

from __future__ import annotations

import peewee as pw

from webapp.models.base import JSONField, TimestampedModel
from webapp.models.users import User
from webapp.models.workspaces import Workspace


class Media(TimestampedModel):
    """A file in MEDIA_ROOT, judged by probing its content, never by its name."""

    workspace = pw.ForeignKeyField(Workspace, backref="media", on_delete="RESTRICT")
    owner = pw.ForeignKeyField(User, backref="media", on_delete="RESTRICT")  # who uploaded it
    kind = pw.CharField(max_length=8)  # video | photo ("" until checked, or unreadable)
    original_name = pw.CharField(max_length=255)
    stored_name = pw.CharField(max_length=255, unique=True)  # relative to MEDIA_ROOT
    content_type = pw.CharField(max_length=64, default="")
    size_bytes = pw.BigIntegerField(default=0)
    sha256 = pw.CharField(max_length=64, default="")
    status = pw.CharField(max_length=16, default="ready")  # checking | ready | invalid | deleted
    container = pw.CharField(max_length=64, default="")
    video_codec = pw.CharField(max_length=32, default="")
    audio_codec = pw.CharField(max_length=32, default="")
    duration_ms = pw.IntegerField(null=True)
    width = pw.IntegerField(null=True)
    height = pw.IntegerField(null=True)
    fps = pw.FloatField(null=True)
    probe = JSONField(null=True)
    problems = JSONField(default=list)

    class Meta:
        indexes = ((("workspace", "status", "created_at"), False),)
