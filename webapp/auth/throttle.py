"""Throttle failed sign-ins in Redis: guessing stays slow, yet nobody can lock out someone else.

Plain functions over a Redis client, so any number of web processes share the counts.
Three counts, each a different answer to "who is guessing":

- per IP address, over all emails: one address trying many accounts. After the allowance,
  each further failure doubles the wait (from 30 s), up to the window.
- per email *from one IP address*: one address guessing one account, locked the same way, but
  only for that address. Keying it by the email alone let anyone lock a known email for
  everyone (the owner included) by failing on purpose.
- per email over all addresses, per minute: a guess spread over many addresses is slowed to a
  few failures a minute. It is a rate, not a lock: when it is spent, the owner (from any
  address) waits until that minute ends, never longer.

A browser that signed in to this email before (a signed "known device" cookie, see
webapp/auth) skips the last two and the per-address count: its failures are counted for that
device alone. So nobody, from any number of addresses or from behind the owner's own proxy,
can keep the owner out of the browser they usually sign in from.
"""

from __future__ import annotations

import hashlib

import redis

BASE_LOCK_SECONDS = 30
RATE_SECONDS = 60


def _key(kind: str, subject: str, what: str) -> str:
    # Hash the subject: emails and IPs don't belong in Redis key listings.
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"cadence:login:{what}:{kind}:{digest}"


def _subjects(email: str, ip: str, device: str | None) -> list[tuple[str, str]]:
    if device:
        return [("email-device", f"{email}\n{device}")]
    return [("ip", ip), ("email-ip", f"{email}\n{ip}")]


def seconds_locked(
    r: redis.Redis, email: str, ip: str, *, per_minute: int, device: str | None = None
) -> int:
    """Return how many seconds sign-in stays refused for this email from here (0: allowed)."""
    ttls = [r.ttl(_key(kind, subject, "lock")) for kind, subject in _subjects(email, ip, device)]
    rate_key = _key("email", email, "rate")
    if not device and int(r.get(rate_key) or 0) >= per_minute:
        ttls.append(r.ttl(rate_key))
    return max([t for t in ttls if t and t > 0] or [0])


def record_failure(
    r: redis.Redis,
    email: str,
    ip: str,
    *,
    max_email: int,
    max_ip: int,
    window: int,
    per_minute: int,
    device: str | None = None,
) -> int:
    """Count a failed sign-in and return the resulting wait in seconds (0: none yet)."""
    wait = 0
    allowances = {"ip": max_ip, "email-ip": max_email, "email-device": max_email}
    for kind, subject in _subjects(email, ip, device):
        count_key = _key(kind, subject, "fail")
        pipe = r.pipeline()
        pipe.incr(count_key)
        pipe.expire(count_key, window, nx=True)
        count = int(pipe.execute()[0])
        if count >= allowances[kind]:
            seconds = min(window, BASE_LOCK_SECONDS * 2 ** (count - allowances[kind]))
            r.set(_key(kind, subject, "lock"), 1, ex=seconds)
            wait = max(wait, seconds)
    if device:
        return wait
    rate_key = _key("email", email, "rate")
    pipe = r.pipeline()
    pipe.incr(rate_key)
    pipe.expire(rate_key, RATE_SECONDS, nx=True)
    pipe.ttl(rate_key)
    count, _, ttl = pipe.execute()
    if int(count) >= per_minute:
        wait = max(wait, int(ttl))
    return wait


def clear(r: redis.Redis, email: str, ip: str, device: str | None = None) -> None:
    """Forget the failures of an email from here after a successful sign-in."""
    for kind, subject in _subjects(email, ip, device):
        if kind != "ip":  # one right password says nothing about the address's other guesses
            r.delete(_key(kind, subject, "fail"), _key(kind, subject, "lock"))
