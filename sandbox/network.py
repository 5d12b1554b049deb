"""The network profile: TikTok as seen from far away, simulated inside the sandbox.

`LATENCY_MS` (with up to `JITTER_MS` more, drawn per request) is the round trip of each API
request: half of it passes before the sandbox handles the request, half before the answer
leaves, so the times the sandbox records (an init's arrival) sit where TikTok would see them.
`UPLINK_MBPS` is the client's whole uplink: one token bucket shared by every upload body in
flight, so two concurrent uploads each get about half of it. The control pages under /_sandbox/
and the public post pages are local and skip the profile.
"""

from __future__ import annotations

import random
import threading
import time

SLICE = 64 * 1024  # bytes let through at a time, so concurrent uploads interleave finely


class Uplink:
    """A shared token bucket of `mbps` megabits per second, without burst (a virtual clock)."""

    def __init__(self, mbps: float):
        self.bytes_per_second = mbps * 1_000_000 / 8
        self._lock = threading.Lock()
        self._free_at = 0.0

    def take(self, count: int) -> None:
        """Wait until `count` more bytes fit in the uplink's rate (FIFO among the callers)."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._free_at)
            self._free_at = start + count / self.bytes_per_second
            until = self._free_at
        delay = until - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class _ThrottledInput:
    """A wsgi.input that reads no faster than the shared uplink allows."""

    def __init__(self, stream, uplink: Uplink):
        self._stream, self._uplink = stream, uplink

    def read(self, size: int = -1) -> bytes:
        size = SLICE if size is None or size < 0 else min(size, SLICE)
        data = self._stream.read(size)
        if data:
            self._uplink.take(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        if data:
            self._uplink.take(len(data))
        return data

    def __iter__(self):
        while line := self.readline():
            yield line


def _local(path: str) -> bool:
    return path.startswith("/_sandbox") or path.startswith("/@")


class NetworkProfile:
    """WSGI middleware adding the latency, the jitter and the shared uplink to the API."""

    def __init__(self, app, *, latency_ms: float, jitter_ms: float, uplink_mbps: float):
        self.app = app
        self.latency = max(0.0, latency_ms) / 1000
        self.jitter = max(0.0, jitter_ms) / 1000
        self.uplink = Uplink(uplink_mbps) if uplink_mbps > 0 else None

    def __call__(self, environ, start_response):
        if _local(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        delay = self.latency + random.uniform(0, self.jitter)
        time.sleep(delay / 2)
        if self.uplink is not None and environ.get("REQUEST_METHOD") == "PUT":
            environ["wsgi.input"] = _ThrottledInput(environ["wsgi.input"], self.uplink)
        body = self.app(environ, start_response)
        time.sleep(delay / 2)
        return body


def wrap(app, settings: dict):
    """Return app behind the network profile in settings (itself when the profile is off)."""
    if not (settings["LATENCY_MS"] or settings["JITTER_MS"] or settings["UPLINK_MBPS"]):
        return app
    return NetworkProfile(
        app,
        latency_ms=settings["LATENCY_MS"],
        jitter_ms=settings["JITTER_MS"],
        uplink_mbps=settings["UPLINK_MBPS"],
    )
