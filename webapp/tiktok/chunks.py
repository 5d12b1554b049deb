"""TikTok's chunk rules for FILE_UPLOAD (spec/tiktok-api.md 3.3), as plain arithmetic.

total_chunk_count = floor(video_size / chunk_size); every chunk is chunk_size bytes except the
last, which takes the remainder (so it is between chunk_size and 2 * chunk_size - 1 bytes);
files under 5 MB go as one chunk, and files over 64 MB in at least two (TikTok's media transfer
guide). "MB" is not defined, so chunks stay within 5,242,880 ..= 64,000,000 bytes, which
satisfies either reading.
"""

from __future__ import annotations

MIN_CHUNK = 5_242_880
MAX_CHUNK = 64_000_000
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024**3


def plan(size: int, preferred: int = MAX_CHUNK) -> tuple[int, int]:
    """Return (chunk_size, total_chunk_count) for a file of `size` bytes."""
    if size <= 0 or size > MAX_VIDEO_BYTES:
        raise ValueError(f"a video must be between 1 byte and 4 GB, not {size} bytes")
    if size < MIN_CHUNK:
        return size, 1
    # Up to 64 MB the whole file may be one chunk; above, half the file at most, so that
    # floor(size / chunk) >= 2 (half of anything over 64 MB is still well over 5 MB).
    largest = size if size <= MAX_CHUNK else size // 2
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, preferred, largest))
    count = size // chunk
    # With chunk <= 64,000,000 the last chunk is < 2 * chunk <= 128,000,000, and a 4 GB file
    # needs < 1000 chunks even at the 5,242,880-byte minimum.
    return chunk, count


def bounds(size: int, chunk: int, count: int, index: int) -> tuple[int, int]:
    """Return the inclusive byte range (first, last) of chunk `index`."""
    if not 0 <= index < count:
        raise IndexError(index)
    first = index * chunk
    last = size - 1 if index == count - 1 else first + chunk - 1
    return first, last


def index_at(received: int, chunk: int, count: int) -> int:
    """Return the chunk that starts at byte `received` (what to send next after a resume)."""
    return min(received // chunk, count - 1)
