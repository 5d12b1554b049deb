"""Check an uploaded media file off the web request: probe it and make its cover frames; and
look after checks that a dead worker left behind."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from redis import Redis

import jobs
from jobs import context
from webapp import ffmpeg, tasks
from webapp.db import connected
from webapp.media.storage import (
    COVER_FRAMES,
    LEGACY_FRAMES,
    check,
    convert_photo,
    extract_frames,
    frames_dir,
)
from webapp.models import Media, utcnow

# A check normally ends within its job timeout; one older than this lost its worker.
STALE_CHECK = dt.timedelta(seconds=(COVER_FRAMES + 3) * ffmpeg.SECONDS * 2)


def convert_media(media_id: int, copy_id: int) -> str:
    """Make a photo's TikTok-ready copy and check it (safe to run twice)."""
    settings = context.settings()
    with connected():
        copy = convert_photo(media_id, copy_id, settings["MEDIA_ROOT"])
        return "gone" if copy is None else copy.status


def check_media(media_id: int) -> str:
    """Probe one media row waiting for its check and make its cover frames (safe to run twice)."""
    settings = context.settings()
    job = jobs.current_job()

    def step(name: str) -> None:
        # The page reads progress from the row; job.meta shows it on the Queue page too.
        if job is not None:
            job.meta["step"] = name
            job.save_meta()

    with connected():
        media = check(media_id, settings["MEDIA_ROOT"], on_step=step)
        return "gone" if media is None else media.status


def make_covers(media_id: int) -> int:
    """Make the missing cover frames of a checked video; return how many it has."""
    settings = context.settings()
    with connected():
        media = Media.get_or_none((Media.id == media_id) & (Media.status == "ready"))
        return len(extract_frames(media, settings["MEDIA_ROOT"])) if media else 0


def housekeeping() -> dict:
    """Requeue checks a dead worker left, queue covers for videos that have none, and remove
    the old id-keyed frames folder (ids come back on SQLite, so it could show one member
    another's thumbnails)."""
    settings = context.settings()
    root = Path(settings["MEDIA_ROOT"])
    connection = Redis.from_url(settings["REDIS_URL"])
    done = {"requeued": 0, "covers": 0, "legacy_removed": False}
    legacy = root / LEGACY_FRAMES
    if legacy.is_dir():
        shutil.rmtree(legacy, ignore_errors=True)
        done["legacy_removed"] = True
    with connected():
        stale = Media.select().where(
            (Media.status == "checking") & (Media.created_at < utcnow() - STALE_CHECK)
        )
        for media in stale:
            tasks.enqueue_check(connection, media)
            done["requeued"] += 1
        videos = Media.select().where(
            (Media.status == "ready") & (Media.kind == "video") & Media.duration_ms.is_null(False)
        )
        for media in videos:
            if not media.problems and not frames_dir(media, root).is_dir():
                jobs.enqueue(
                    connection,
                    make_covers,
                    media.id,
                    job_id=f"media-covers-{tasks.check_job_id(media)}",
                    job_timeout=COVER_FRAMES * ffmpeg.SECONDS,
                    result_ttl=600,
                )
                done["covers"] += 1
    return done
