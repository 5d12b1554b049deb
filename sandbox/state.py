"""The sandbox's memory: creators, codes, tokens, publishes and the log of every init.

One lock guards everything; with a state file, every change is written through to disk so a
restarted sandbox keeps tokens and posts.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from pathlib import Path

PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


def _creator(
    username,
    nickname,
    open_id,
    *,
    private=False,
    comment=False,
    duet=False,
    stitch=False,
    max_duration=600,
    cant_post="",
    bio="",
):
    return {
        "username": username,
        "nickname": nickname,
        "open_id": open_id,
        "union_id": "u_" + open_id,
        "private": private,
        "comment_disabled": comment,
        "duet_disabled": duet,
        "stitch_disabled": stitch,
        "max_video_post_duration_sec": max_duration,
        "cant_post": cant_post,  # an error code creator_info answers with HTTP 200, or ""
        "bio": bio,
        "is_verified": False,
    }


def demo_creators(extra: int = 0) -> dict[str, dict]:
    """Return the demo creators keyed by username."""
    creators = [
        _creator(
            "maya.rivers",
            "Maya Rivers",
            "sbx-open-maya",
            bio="Public account: every option allowed, videos up to 10 minutes.",
        ),
        _creator(
            "kenji.private",
            "Kenji (private)",
            "sbx-open-kenji",
            private=True,
            duet=True,
            stitch=True,
            max_duration=300,
            bio="Private account: duet and stitch disabled, videos up to 5 minutes.",
        ),
        _creator(
            "lena.quiet",
            "Lena Quiet",
            "sbx-open-lena",
            comment=True,
            max_duration=60,
            bio="Comments disabled, videos up to 60 seconds.",
        ),
        _creator(
            "omar.paused",
            "Omar Paused",
            "sbx-open-omar",
            cant_post="spam_risk_too_many_posts",
            bio="Can't post now: TikTok says too many posts today.",
        ),
    ]
    for i in range(1, extra + 1):
        creators.append(
            _creator(f"creator{i:03d}", f"Creator {i:03d}", f"sbx-open-c{i:03d}", max_duration=600)
        )
    return {c["username"]: c for c in creators}


class State:
    """Everything the sandbox remembers."""

    def __init__(self, extra_creators: int = 0, path: str | None = None):
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.extra_creators = extra_creators
        self.reset(save=False)
        if self.path and self.path.is_file():
            self._load()

    def reset(self, save: bool = True) -> None:
        """Forget everything but the demo creators."""
        with self.lock:
            self.creators = demo_creators(self.extra_creators)
            self.codes: dict[str, dict] = {}
            self.access: dict[str, dict] = {}
            self.refresh: dict[str, dict] = {}
            self.publishes: dict[str, dict] = {}
            self.uploads: dict[str, str] = {}  # upload id -> publish_id
            self.inits: list[dict] = []
            self.token_calls: list[dict] = []
            self.webhooks: list[dict] = []
            self.rate: dict[str, list[float]] = {}
            self.counter = 0
            if save:
                self.save()

    def next_number(self) -> int:
        """Return a new sequence number for ids."""
        self.counter += 1
        return int(time.time()) * 1000 + self.counter

    def creator_by_open_id(self, open_id: str) -> dict | None:
        """Return the creator with this open_id."""
        return next((c for c in self.creators.values() if c["open_id"] == open_id), None)

    def new_token(self, prefix: str) -> str:
        """Return a fresh opaque token string."""
        return f"{prefix}.{secrets.token_urlsafe(24)}"

    # --- persistence -------------------------------------------------------------------------

    _FIELDS = (
        "creators",
        "codes",
        "access",
        "refresh",
        "publishes",
        "uploads",
        "inits",
        "token_calls",
        "webhooks",
        "counter",
    )

    def save(self) -> None:
        """Write the state file, if any (atomically)."""
        if not self.path:
            return
        with self.lock:
            data = {name: getattr(self, name) for name in self._FIELDS}
            tmp = self.path.with_suffix(".tmp")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.path)

    def _load(self) -> None:
        data = json.loads(self.path.read_text())
        for name in self._FIELDS:
            if name in data:
                setattr(self, name, data[name])

    # --- rate limits ---------------------------------------------------------------------------

    def hit(self, key: str, limit: int, window: float = 60.0) -> bool:
        """Count a call under key; return False when the limit for the window is spent."""
        now = time.monotonic()
        with self.lock:
            calls = [t for t in self.rate.get(key, []) if now - t < window]
            if len(calls) >= limit:
                self.rate[key] = calls
                return False
            calls.append(now)
            self.rate[key] = calls
            return True
