"""Where media files live and how uploads reach them without ever being held in memory.

Uploads stream into MEDIA_ROOT/incoming/ (same filesystem as their final place), are probed,
then hard-linked under a random name; the temporary file disappears when the request ends.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

from flask import current_app
from htmx_flask.requests import HtmxAwareRequest

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


def media_root() -> Path:
    """Return MEDIA_ROOT, creating it when missing."""
    root = Path(current_app.config["MEDIA_ROOT"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_of(media: Media) -> Path:
    """Return the file of a media row (stored names are ours, never the uploader's)."""
    return media_root() / media.stored_name


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


def store(source: Path, original_name: str, owner_id: int, facts: Probe | None = None) -> Media:
    """Probe source and keep it as a new media row (raises ValueError for unreadable files)."""
    facts = facts or probe(source)
    if not facts.kind:
        raise ValueError(facts.error)
    problems = video_problems(facts) if facts.kind == "video" else photo_problems(facts)
    stored = f"{owner_id}/{secrets.token_hex(16)}{EXTENSIONS.get(facts.container, '.bin')}"
    target = media_root() / stored
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        # Another filesystem (or no hard links): copy instead.
        with source.open("rb") as src, target.open("wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    return Media.create(
        owner=owner_id,
        kind=facts.kind,
        original_name=_display_name(original_name),
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
        status="ready" if not problems else "invalid",
    )


def convert_photo(media: Media) -> Media:
    """Make a JPEG copy that TikTok accepts (≤ 1080 px, re-encoded); the original stays."""
    import imageio_ffmpeg

    source = path_of(media)
    scale = "scale='min(1080,iw)':'min(1080,ih)':force_original_aspect_ratio=decrease"
    with tempfile.TemporaryDirectory(dir=media_root()) as tmp:
        out = Path(tmp) / "converted.jpg"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-y",
                "-loglevel",
                "error",
                "-i",
                str(source),
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
            check=True,
            timeout=120,
            capture_output=True,
        )
        stem = Path(media.original_name).stem
        return store(out, f"{stem} (for TikTok).jpg", media.owner_id)


COVER_FRAMES = 6


def cover_frames(media: Media) -> list[int]:
    """Return the timestamps (ms) of cover-frame thumbnails for a video, extracting them once."""
    import imageio_ffmpeg

    if media.kind != "video" or not media.duration_ms or media.problems:
        return []
    folder = media_root() / "frames" / str(media.id)
    # Evenly spread inside the video, never on its very last frame.
    stamps = [int(media.duration_ms * (i + 0.5) / COVER_FRAMES) for i in range(COVER_FRAMES)]
    if all((folder / f"{ms}.jpg").is_file() for ms in stamps):
        return stamps
    gave_up = folder / "no-frames"
    if gave_up.is_file() or not path_of(media).is_file():
        return []  # tried once already (or no file): never spawn ffmpeg on every page view
    folder.mkdir(parents=True, exist_ok=True)
    for ms in stamps:
        target = folder / f"{ms}.jpg"
        if target.is_file():
            continue
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-y",
                "-loglevel",
                "error",
                "-ss",
                f"{ms / 1000:.3f}",
                "-i",
                str(path_of(media)),
                "-frames:v",
                "1",
                "-vf",
                "scale=180:-2",
                "-q:v",
                "4",
                str(target),
            ],
            check=False,
            timeout=60,
            capture_output=True,
        )
    found = [ms for ms in stamps if (folder / f"{ms}.jpg").is_file()]
    if not found:
        gave_up.touch()
    return found


def frame_path(media: Media, ms: int) -> Path:
    """Return the thumbnail file of one cover frame."""
    return media_root() / "frames" / str(media.id) / f"{int(ms)}.jpg"
