"""What TikTok checks in a video once it has arrived: that it is a video at all, its duration
(at most the creator's max_video_post_duration_sec), its frame rate (23-60 fps) and each side of
its picture (360-4096 px), answered as status/fetch's fail_reason (tiktok-api.md 3.6 and 4).

Uploads can be 4 GB, so the sandbox keeps only the head and the tail of each file (where MP4/MOV
and WebM describe their streams) in a sparse spool file, and lets ffmpeg (the binary imageio-ffmpeg
installs) read that. The middle stays a hole of zeros, which `ffmpeg -i` never decodes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

HEAD = TAIL = 8 * 1024 * 1024
MIN_FPS, MAX_FPS = 23, 60
MIN_SIDE, MAX_SIDE = 360, 4096
PROBE_TIMEOUT = 30

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+[^\n]*?: Video: [^\n]*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"Stream #\d+:\d+[^\n]*?: Video: [^\n]*?, ([\d.]+) fps")
_TBR = re.compile(r"Stream #\d+:\d+[^\n]*?: Video: [^\n]*?, ([\d.]+) tbr")


def _spool_folder(state_file: Path | None) -> Path:
    if state_file is not None:
        return state_file.with_name(state_file.stem + "-spool")
    return Path(tempfile.gettempdir()) / f"tiktok-sandbox-{os.getpid()}"


def spool_path(publish_id: str, state_file: Path | None = None) -> Path:
    """Return where the kept bytes of a publish live: beside the state file, so an upload resumes
    across a restart, or else per process, so parallel sandboxes never share a file."""
    folder = _spool_folder(state_file)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (hashlib.sha256(publish_id.encode()).hexdigest()[:32] + ".part")


def clear_spool(state_file: Path | None = None) -> None:
    """Delete the kept bytes of every upload (the uploads that never finished, after a reset)."""
    shutil.rmtree(_spool_folder(state_file), ignore_errors=True)


def write_at(path: Path, offset: int, data: bytes) -> None:
    """Write data at offset in path (created if missing; what lies between stays a hole)."""
    if not data:
        return
    with open(path, "r+b" if path.exists() else "w+b") as handle:
        handle.seek(offset)
        handle.write(data)


def keep(path: Path, total: int, offset: int, piece: bytes) -> None:
    """Keep the parts of piece (bytes offset.. of a file of total bytes) that fall in the head or
    the tail of the file."""
    end = offset + len(piece)
    for lo, hi in ((0, HEAD), (max(0, total - TAIL), total)):
        start, stop = max(offset, lo), min(end, hi)
        if start < stop:
            write_at(path, start, piece[start - offset : stop - offset])


def finish_spool(path: Path, total: int) -> None:
    """Give the spool file its full length (a sparse hole where the middle was not kept)."""
    with open(path, "r+b" if path.exists() else "w+b") as handle:
        handle.truncate(total)


def check(path: Path, max_duration_sec: int) -> str:
    """Return the fail_reason TikTok would give this video, or "" when it passes."""
    try:
        run = subprocess.run(
            [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "file_format_check_failed"
    info = run.stderr
    video, duration = _VIDEO.search(info), _DURATION.search(info)
    if not video or not duration:
        return "file_format_check_failed"
    hours, minutes, seconds = duration.groups()
    length = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if max_duration_sec and length > max_duration_sec:
        return "duration_check_failed"
    rate = _FPS.search(info) or _TBR.search(info)
    if rate is None or not MIN_FPS <= float(rate.group(1)) <= MAX_FPS:
        return "frame_rate_check_failed"
    width, height = int(video.group(1)), int(video.group(2))
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        # TikTok documents no fail_reason of its own for a video's picture size; the file is
        # refused as a file it can't take.
        return "file_format_check_failed"
    return ""


def check_and_forget(path: Path, max_duration_sec: int) -> str:
    """Check the spooled video, then delete the spool file."""
    try:
        return check(path, max_duration_sec) if path.exists() else "file_format_check_failed"
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
