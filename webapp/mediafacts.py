"""Judge media by its content, never by its name: probe a file with ffmpeg (the binary that
imageio-ffmpeg installs with pip) and check it against TikTok's video and photo rules.

`probe()` runs ffmpeg (through `webapp.ffmpeg`, which bounds it); `video_problems()` and
`photo_problems()` are pure rule checks that return plain sentences. The per-creator duration
limit is checked by the composer module.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from webapp import ffmpeg

MAX_VIDEO_BYTES = 4 * 1024**3
MIN_FPS, MAX_FPS = 23, 60
MIN_SIDE, MAX_SIDE = 360, 4096
VIDEO_CODECS = {"h264": "H.264", "hevc": "H.265", "vp8": "VP8", "vp9": "VP9"}
MAX_PHOTO_SIDE = 1080
MAX_PHOTO_BYTES = 20 * 1024**2

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_INPUT = re.compile(r"Input #0, ([^ ]+), from")
_VIDEO = re.compile(r"Stream #0:\d+[^:]*: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"Stream #0:\d+[^:]*: Video: [^\n]*?, ([\d.]+) fps")
_TBR = re.compile(r"Stream #0:\d+[^:]*: Video: [^\n]*?, ([\d.]+k?) tbr")
_AUDIO = re.compile(r"Stream #0:\d+[^:]*: Audio: (\w+)")


@dataclass
class Probe:
    """What ffmpeg found in a file; `error` says why it isn't usable media at all."""

    size_bytes: int
    kind: str = ""  # "video" | "photo" | "" when unreadable
    container: str = ""
    video_codec: str = ""
    audio_codec: str = ""
    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    error: str = ""
    raw: dict = field(default_factory=dict)


def _container(demuxer: str, codec: str) -> str:
    names = demuxer.split(",")
    if "mp4" in names or "mov" in names:
        return "mp4" if "mp4" in names else "mov"
    if "webm" in names or "matroska" in names:
        return "webm" if codec in {"vp8", "vp9", "av1"} else "matroska"
    if demuxer in {"image2", "jpeg_pipe", "mjpeg"} or codec == "mjpeg":
        return "jpeg"
    if demuxer in {"webp_pipe", "webp"} or codec == "webp":
        return "webp"
    if demuxer in {"png_pipe", "apng"} or codec == "png":
        return "png"
    return demuxer


def probe(path: str | Path) -> Probe:
    """Probe a file with ffmpeg and return what it holds (or why it can't be read)."""
    path = Path(path)
    result = Probe(size_bytes=path.stat().st_size)
    try:
        run = ffmpeg.run(path)
    except subprocess.TimeoutExpired:
        result.error = "This file took too long to read; it may be damaged."
        return result
    info = run.stderr
    video = _VIDEO.search(info)
    demuxer = _INPUT.search(info)
    if not video or not demuxer:
        result.error = (
            "This file isn't a video or image that can be read (whatever its name says). "
            "Choose an MP4, MOV or WebM video, or a JPEG or WebP photo."
        )
        return result
    codec = video.group(1)
    result.video_codec = codec
    result.width, result.height = int(video.group(2)), int(video.group(3))
    result.container = _container(demuxer.group(1), codec)
    audio = _AUDIO.search(info)
    result.audio_codec = audio.group(1) if audio else ""
    image = result.container in {"jpeg", "webp", "png"} or codec in {"mjpeg", "png", "webp", "gif"}
    result.kind = "photo" if image else "video"
    if result.kind == "video":
        duration = _DURATION.search(info)
        if duration:
            h, m, s = duration.groups()
            result.duration_ms = round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)
        fps = _FPS.search(info)
        if fps:
            result.fps = float(fps.group(1))
        else:
            tbr = _TBR.search(info)
            if tbr and not tbr.group(1).endswith("k"):
                result.fps = float(tbr.group(1))
        result.error = _truncation(path, result.duration_ms)
    return result


def _truncation(path: Path, duration_ms: int | None) -> str:
    """Decode the last seconds: a cut-off file fails there even when its header looks fine."""
    start = max(0.0, (duration_ms or 0) / 1000 - 2)
    try:
        run = ffmpeg.run(
            path,
            before=["-v", "error", "-ss", f"{start:.3f}"],
            after=["-map", "0:v:0", "-f", "null", "-"],
        )
    except subprocess.TimeoutExpired:
        return "This video took too long to read; it may be damaged."
    if run.returncode != 0 or run.stderr.strip():
        return (
            "This video file is incomplete or damaged (it may have been cut off while copying "
            "or uploading). Upload it again."
        )
    return ""


def video_problems(p: Probe) -> list[str]:
    """Return the TikTok video rules this file breaks, in plain words."""
    if p.error:
        return [p.error]
    if p.kind != "video":
        return ["This is a photo, not a video."]
    problems = []
    if p.container not in {"mp4", "mov", "webm"}:
        problems.append(
            f"TikTok takes MP4, MOV or WebM videos; this file is {p.container or 'unknown'}."
        )
    if p.video_codec not in VIDEO_CODECS:
        problems.append(
            "TikTok takes H.264, H.265, VP8 or VP9 video; "
            f"this one is {p.video_codec or 'unknown'}."
        )
    if p.fps is None or not MIN_FPS <= p.fps <= MAX_FPS:
        shown = f"{p.fps:g} fps" if p.fps else "unknown"
        problems.append(f"The frame rate is {shown}; TikTok needs {MIN_FPS} to {MAX_FPS} fps.")
    for side, value in (("width", p.width), ("height", p.height)):
        if value is None or not MIN_SIDE <= value <= MAX_SIDE:
            problems.append(
                f"The {side} is {value} px; TikTok needs {MIN_SIDE} to {MAX_SIDE} px on each side."
            )
    if p.size_bytes > MAX_VIDEO_BYTES:
        problems.append("The file is larger than TikTok's 4 GB limit.")
    return problems


def photo_problems(p: Probe) -> list[str]:
    """Return the TikTok photo rules this file breaks, in plain words."""
    if p.error:
        return [p.error]
    if p.kind != "photo":
        return ["This is a video, not a photo."]
    problems = []
    if p.container not in {"jpeg", "webp"}:
        problems.append(
            f"TikTok takes JPEG or WebP photos; this one is {p.container.upper()}. "
            "Cadence can convert it to JPEG for you (the original is kept)."
        )
    if max(p.width or 0, p.height or 0) > MAX_PHOTO_SIDE:
        problems.append(
            f"The photo is {p.width}×{p.height} px; TikTok takes at most {MAX_PHOTO_SIDE} px. "
            "Cadence can make a resized copy for you (the original is kept)."
        )
    if p.size_bytes > MAX_PHOTO_BYTES:
        problems.append("The photo is larger than TikTok's 20 MB limit.")
    return problems
