"""Check an uploaded media file off the web request: probe it and make its cover frames."""

from __future__ import annotations

from rq import get_current_job

from jobs import context
from webapp.db import connected
from webapp.media.storage import check


def check_media(media_id: int) -> str:
    """Probe one media row waiting for its check and make its cover frames (safe to run twice)."""
    settings = context.settings()
    job = get_current_job()

    def step(name: str) -> None:
        # The page reads progress from the row; job.meta shows it on the Queue page too.
        if job is not None:
            job.meta["step"] = name
            job.save_meta()

    with connected():
        media = check(media_id, settings["MEDIA_ROOT"], on_step=step)
        return "gone" if media is None else media.status
