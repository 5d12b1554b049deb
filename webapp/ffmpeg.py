"""The one way Cadence runs ffmpeg on a file someone uploaded: a short list of demuxers, local
files only, and bounds on time and memory.

Without the whitelist ffmpeg picks whatever demuxer the content claims: a DASH manifest, HLS
playlist or concat list named `x.mp4` makes it open other paths on the server, which turns the
probe into a file-existence and metadata oracle. The memory bound was measured: one 4K frame
decoded with two threads needs under 1 GiB of address space; 2 GiB leaves room for 4096x4096.
"""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

# Demuxers of the containers Cadence accepts: MP4/MOV, WebM/Matroska, and JPEG, PNG and WebP
# photos (image2 is what ffmpeg picks for a file ending in .jpg). ffmpeg matches any name of a
# demuxer's list, so "mov" covers "mov,mp4,m4a,3gp,3g2,mj2".
FORMATS = "mov,mp4,matroska,webm,image2,jpeg_pipe,png_pipe,webp_pipe"
# Nested opens (playlists, segments, references) may use no protocol but plain files.
PROTOCOLS = "file"
SECONDS = 60
MEMORY_BYTES = 2 * 1024**3
THREADS = "2"  # a fixed thread count keeps the memory a decode needs the same on any machine


def exe() -> str:
    """Return the ffmpeg binary that imageio-ffmpeg installs with pip."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def command(source: str | Path, *, before: list[str] = (), after: list[str] = ()) -> list[str]:
    """Build an ffmpeg command line that reads source through the whitelist only."""
    return [
        exe(),
        "-hide_banner",
        "-nostdin",
        *before,
        "-threads",
        THREADS,
        "-format_whitelist",
        FORMATS,
        "-protocol_whitelist",
        PROTOCOLS,
        "-i",
        str(source),
        *after,
    ]


def run(
    source: str | Path,
    *,
    before: list[str] = (),
    after: list[str] = (),
    seconds: float = SECONDS,
    memory_bytes: int = MEMORY_BYTES,
) -> subprocess.CompletedProcess:
    """Run ffmpeg on source within the bounds; raise subprocess.TimeoutExpired past `seconds`.

    subprocess.run kills ffmpeg when the time is up (ffmpeg starts no children of its own).
    """
    return subprocess.run(
        command(source, before=list(before), after=list(after)),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=seconds,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: _limit_memory(memory_bytes),  # noqa: PLW1509 - no threads started yet
        check=False,
    )
