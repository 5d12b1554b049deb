"""Check an uploaded media file off the web request: probe it and make its cover frames."""

from __future__ import annotations

from jobs import context
from webapp.db import connected
from webapp.media.storage import check


def check_media(media_id: int) -> str:
    """Probe one media row waiting for its check and make its cover frames (safe to run twice)."""
    settings = context.settings()
    with connected():
        media = check(media_id, settings["MEDIA_ROOT"])
        return "gone" if media is None else media.status
