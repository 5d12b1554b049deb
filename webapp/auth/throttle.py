"""Throttle failed sign-ins per email and per IP address, in Redis.

Plain functions over a Redis client, so any number of web processes share the counts.
After the allowance is spent, each further failure doubles the wait, up to the window.
"""

from __future__ import annotations

import hashlib

import redis

BASE_LOCK_SECONDS = 30


def _key(kind: str, subject: str, what: str) -> str:
    # Hash the subject: emails and IPs don't belong in Redis key listings.
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"cadence:login:{what}:{kind}:{digest}"


def seconds_locked(r: redis.Redis, email: str, ip: str) -> int:
    """Return how many seconds sign-in stays refused for this email or IP (0: allowed)."""
    ttls = [r.ttl(_key("email", email, "lock")), r.ttl(_key("ip", ip, "lock"))]
    return max([t for t in ttls if t and t > 0] or [0])


def record_failure(
    r: redis.Redis, email: str, ip: str, *, max_email: int, max_ip: int, window: int
) -> int:
    """Count a failed sign-in and return the resulting lock in seconds (0: none yet)."""
    lock = 0
    for kind, subject, allowance in (("email", email, max_email), ("ip", ip, max_ip)):
        count_key = _key(kind, subject, "fail")
        pipe = r.pipeline()
        pipe.incr(count_key)
        pipe.expire(count_key, window, nx=True)
        count = int(pipe.execute()[0])
        if count >= allowance:
            seconds = min(window, BASE_LOCK_SECONDS * 2 ** (count - allowance))
            r.set(_key(kind, subject, "lock"), 1, ex=seconds)
            lock = max(lock, seconds)
    return lock


def clear(r: redis.Redis, email: str) -> None:
    """Forget the failures of an email after a successful sign-in."""
    r.delete(_key("email", email, "fail"), _key("email", email, "lock"))
