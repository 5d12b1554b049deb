"""Where media files live and how uploads reach them without ever being held in memory.

Uploads stream into MEDIA_ROOT/incoming/ (same filesystem as their final place) and are
hard-linked under a random name as a media row in the "checking" state; the temporary file
disappears when the request ends. The media job (jobs/media.py) then probes the file, renames it
after its container and makes its cover frames. Files made from a media (cover frames) live
under a folder named after its random stored name, and are deleted with it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from htmx_flask.requests import HtmxAwareRequest

from webapp import ffmpeg
from webapp.config import checks_inline
from webapp.mediafacts import Probe, photo_problems, probe, video_problems
from webapp.models import Media

EXTENSIONS = {
    "mp4": ".mp4",
    "mov": ".mov",
    "webm": ".webm",
    "jpeg": ".jpg",
    "webp": ".webp",
    "png": ".png",
    "matroska": ".mkv",
}
CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "png": "image/png",
    "matroska": "video/x-matroska",
}
MAX_UPLOAD_BYTES = 4 * 1024**3 + 1024**2  # one 4 GB file plus the multipart envelope
PENDING = ".upload"  # the suffix of a received file until its check names its container
COVER_FRAMES = 6
COVERS = "covers"  # cover frames, one folder per stored name
LEGACY_FRAMES = "frames"  # the old frames/<media id>/ folders, removed by housekeeping


def media_root(root: str | Path | None = None) -> Path:
    """Return MEDIA_ROOT (the app's unless root is given), creating it when missing."""
    folder = Path(root if root is not None else current_app.config["MEDIA_ROOT"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(media: Media, root: str | Path | None = None) -> Path:
    """Return the file of a media row (stored names are ours, never the uploader's)."""
    return media_root(root) / media.stored_name


def frames_dir(media: Media, root: str | Path | None = None) -> Path:
    """Return the folder of a media's cover frames, named after its random stored name.

    Never after its id: SQLite hands a deleted row's id to the next upload, whoever makes it.
    """
    return media_root(root) / COVERS / media.stored_name


class StreamingRequest(HtmxAwareRequest):
    """A request whose uploaded files stream to disk under MEDIA_ROOT, whatever their size."""

    @property
    def max_content_length(self) -> int | None:
        """Allow a 4 GB body on the upload route only; every other form keeps the app's limit."""
        if self.url_rule is not None and self.url_rule.endpoint == "media.upload":
            return MAX_UPLOAD_BYTES
        return super().max_content_length

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        incoming = media_root() / "incoming"
        incoming.mkdir(exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=incoming, prefix="upload-", delete=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _display_name(name: str) -> str:
    # Only for showing: strip any path a browser sent and control characters.
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    return "".join(ch for ch in base if ch.isprintable())[:200] or "upload"


def _keep(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        # Another filesystem (or no hard links): copy instead.
        with source.open("rb") as src, target.open("wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)


def receive(
    source: Path,
    original_name: str,
    owner_id: int,
    root: str | Path | None = None,
    workspace_id: int | None = None,
) -> Media:
    """Keep an uploaded file under a random name as a media row waiting for its check, in
    workspace_id (default: the uploader's first workspace)."""
    if workspace_id is None:
        from webapp.models import User
        from webapp.workspaces.members import default_for

        workspace_id = default_for(User.get_by_id(owner_id)).id
    stored = f"{owner_id}/{secrets.token_hex(16)}{PENDING}"
    target = media_root(root) / stored
    _keep(source, target)
    return Media.create(
        workspace=workspace_id,
        owner=owner_id,
        kind="",
        original_name=_display_name(original_name),
        stored_name=stored,
        size_bytes=target.stat().st_size,
        status="checking",
        problems=[],
    )


def check(
    media_id: int,
    root: str | Path,
    facts: Probe | None = None,
    on_step: Callable[[str], None] = lambda step: None,
) -> Media | None:
    """Probe a media row waiting for its check, keep what it holds, then make its cover frames.

    Safe to run twice: each step looks at what the row already has. Runs in the media job (or
    inline where MEDIA_CHECKS is "inline"); never spawns ffmpeg outside webapp.ffmpeg's bounds.
    """
    media = Media.get_or_none(Media.id == media_id)
    if media is None or media.status != "checking":
        return media
    if not media.kind:
        on_step("reading")
        source = path_of(media, root)
        if not source.is_file():
            return _refuse(media, "The uploaded file is missing. Upload it again.")
        facts = facts or probe(source)
        if not facts.kind:
            source.unlink(missing_ok=True)
            return _refuse(media, facts.error)
        problems = video_problems(facts) if facts.kind == "video" else photo_problems(facts)
        stored = str(Path(media.stored_name).with_suffix(EXTENSIONS.get(facts.container, ".bin")))
        target = media_root(root) / stored
        if not target.exists():
            _keep(source, target)
        Media.update(
            kind=facts.kind,
            stored_name=stored,
            content_type=CONTENT_TYPES.get(facts.container, "application/octet-stream"),
            size_bytes=facts.size_bytes,
            sha256=_sha256(target),
            container=facts.container,
            video_codec=facts.video_codec,
            audio_codec=facts.audio_codec,
            duration_ms=facts.duration_ms,
            width=facts.width,
            height=facts.height,
            fps=facts.fps,
            problems=problems,
        ).where(Media.id == media.id).execute()
        if stored != media.stored_name:
            source.unlink(missing_ok=True)
        media = Media.get_or_none(Media.id == media_id)
        if media is None:  # deleted while being read: leave nothing behind
            target.unlink(missing_ok=True)
            return None
    on_step("cover frames")
    extract_frames(media, root)
    Media.update(status="invalid" if media.problems else "ready").where(
        (Media.id == media.id) & (Media.status == "checking")
    ).execute()
    if Media.get_or_none(Media.id == media_id) is None:
        remove_files(media, root)
        return None
    return Media.get_by_id(media_id)


def _refuse(media: Media, problem: str) -> Media:
    Media.update(status="invalid", problems=[problem]).where(
        (Media.id == media.id) & (Media.status == "checking")
    ).execute()
    return Media.get_or_none(Media.id == media.id)


def problems_of(media: Media) -> list[str]:
    """Return what keeps a media from being posted, a check still running included."""
    if media.status == "checking":
        return [f"“{media.original_name}” is still being checked; wait a moment and try again."]
    return list(media.problems or [])


def remove_files(media: Media, root: str | Path | None = None) -> None:
    """Delete a media's file and everything made from it (cover frames)."""
    path_of(media, root).unlink(missing_ok=True)
    shutil.rmtree(frames_dir(media, root), ignore_errors=True)


def store(
    source: Path,
    original_name: str,
    owner_id: int,
    facts: Probe | None = None,
    root: str | Path | None = None,
    workspace_id: int | None = None,
) -> Media:
    """Probe source and keep it as a checked media row at once (raises ValueError if unreadable).

    For the demo seed, conversions and scripts; the upload route queues the check instead.
    """
    facts = facts or probe(source)
    if not facts.kind:
        raise ValueError(facts.error)
    media = receive(source, original_name, owner_id, root, workspace_id)
    return check(media.id, media_root(root), facts=facts)


def start_check(media: Media) -> None:
    """Queue the check of a freshly received media (run it here when MEDIA_CHECKS is "inline")."""
    if checks_inline(current_app.config):
        check(media.id, media_root())
        return
    from webapp import tasks
    from webapp.extensions import get_redis

    tasks.enqueue_check(get_redis(), media)


CONVERT_FAILED = "This photo could not be converted. Try exporting it as JPEG yourself."


def start_conversion(media: Media) -> Media:
    """Add the row of a TikTok-ready copy of a photo and have it made (queued, or inline)."""
    copy = Media.create(
        workspace=media.workspace_id,
        owner=media.owner_id,
        kind="",
        original_name=_display_name(f"{Path(media.original_name).stem} (for TikTok).jpg"),
        stored_name=f"{media.owner_id}/{secrets.token_hex(16)}{PENDING}",
        status="checking",
        problems=[],
    )
    if checks_inline(current_app.config):
        return convert_photo(media.id, copy.id, media_root())
    from webapp import tasks
    from webapp.extensions import get_redis

    tasks.enqueue_conversion(get_redis(), media, copy)
    return copy


def convert_photo(source_id: int, copy_id: int, root: str | Path) -> Media | None:
    """Write a JPEG copy that TikTok accepts (≤ 1080 px, re-encoded) into the copy's row, then
    check it; the original stays. Safe to run twice."""
    copy = Media.get_or_none(Media.id == copy_id)
    if copy is None or copy.status != "checking" or copy.kind:
        return check(copy_id, root) if copy is not None else None
    media = Media.get_or_none((Media.id == source_id) & (Media.status != "deleted"))
    if media is None:
        return _refuse(copy, CONVERT_FAILED)
    scale = "scale='min(1080,iw)':'min(1080,ih)':force_original_aspect_ratio=decrease"
    with tempfile.TemporaryDirectory(dir=media_root(root)) as tmp:
        out = Path(tmp) / "converted.jpg"
        try:
            done = ffmpeg.run(
                path_of(media, root),
                before=["-y", "-loglevel", "error"],
                after=[
                    "-vf",
                    scale,
                    # Re-encoded pixels only: no EXIF (camera, GPS position) or other metadata.
                    "-map_metadata",
                    "-1",
                    "-frames:v",
                    "1",
                    "-q:v",
                    "2",
                    str(out),
                ],
            )
        except subprocess.TimeoutExpired:
            return _refuse(copy, CONVERT_FAILED)
        if done.returncode != 0 or not out.is_file():
            return _refuse(copy, CONVERT_FAILED)
        target = path_of(copy, root)
        if not target.exists():
            _keep(out, target)
    return check(copy_id, root)


def _stamps(media: Media) -> list[int]:
    # Evenly spread inside the video, never on its very last frame.
    return [int(media.duration_ms * (i + 0.5) / COVER_FRAMES) for i in range(COVER_FRAMES)]


def _made_frames(media: Media, root: str | Path | None = None) -> list[int]:
    return [ms for ms in _stamps(media) if frame_path(media, ms, root).is_file()]


def extract_frames(media: Media, root: str | Path) -> list[int]:
    """Write the cover-frame thumbnails of a checked video (in the job); return their stamps."""
    if media.kind != "video" or not media.duration_ms or media.problems:
        return []
    frames_dir(media, root).mkdir(parents=True, exist_ok=True)
    for ms in _stamps(media):
        target = frame_path(media, ms, root)
        if target.is_file():
            continue
        try:
            ffmpeg.run(
                path_of(media, root),
                before=["-y", "-loglevel", "error", "-ss", f"{ms / 1000:.3f}"],
                after=["-frames:v", "1", "-vf", "scale=180:-2", "-q:v", "4", str(target)],
            )
        except subprocess.TimeoutExpired:
            target.unlink(missing_ok=True)
    return _made_frames(media, root)


def cover_frames(media: Media) -> list[int]:
    """Return the timestamps (ms) of a video's cover-frame thumbnails; [] until it's checked.

    Only reads what the media check made: never runs ffmpeg in a web request.
    """
    if media.status != "ready" or media.kind != "video" or not media.duration_ms:
        return []
    return _made_frames(media)


def frame_path(media: Media, ms: int, root: str | Path | None = None) -> Path:
    """Return the thumbnail file of one cover frame."""
    return frames_dir(media, root) / f"{int(ms)}.jpg"
