"""TikTok's per-token limits (creator_info 20/min, each init 6/min, status 30/min), kept in Redis
so every worker and web process shares one count. A sliding window (Redis's own clock, in a Lua
script) is at least as strict as TikTok's, so normal operation never meets a 429.
"""

from __future__ import annotations

import random
import threading
import time
import uuid

import redis as redis_lib

LIMITS = {
    "creator_info": 20,
    "video_init": 6,
    "inbox_init": 6,
    "content_init": 6,
    "status": 30,
}
WINDOW_MS = 61_000  # one minute, plus a second for clocks and network

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class RateLimited(Exception):
    """The call would break TikTok's limit; `wait` seconds until it won't."""

    def __init__(self, endpoint: str, wait: float):
        super().__init__(f"{endpoint}: TikTok's per-minute limit is reached; wait {wait:.0f} s")
        self.endpoint = endpoint
        self.wait = wait


def _key(account_id: int, endpoint: str) -> str:
    return f"cadence:rate:{endpoint}:{account_id}"


def take(redis: redis_lib.Redis, account_id: int, endpoint: str) -> float:
    """Count one call if the limit allows it (return 0), else return the seconds to wait."""
    wait_ms = redis.eval(
        _SCRIPT, 1, _key(account_id, endpoint), WINDOW_MS, LIMITS[endpoint], _last.new()
    )
    return int(wait_ms) / 1000


class _Last(threading.local):
    """The member this thread last counted, per thread, so a call TikTok never served can be
    given back (refund) without a token passed around."""

    member = ""

    def new(self) -> str:
        self.member = uuid.uuid4().hex
        return self.member


_last = _Last()


def refund(redis: redis_lib.Redis, account_id: int, endpoint: str) -> None:
    """Give back the call this thread counted last: TikTok never served it (no answer at all,
    or a 5xx), so it can't count against TikTok's limit, and retrying must not starve the
    account's next posts of their slots."""
    if _last.member:
        redis.zrem(_key(account_id, endpoint), _last.member)
        _last.member = ""


# A 429 although the count above says the call was allowed: TikTok counts differently for a
# moment (or hiccupped). The first one per account and endpoint in a window is retried after
# a few seconds; another within the window waits the whole window out.
HICCUP_SECONDS = (2.0, 4.0)


def refused(redis: redis_lib.Redis, account_id: int, endpoint: str) -> float:
    """Record TikTok's 429 for a call; return the seconds to wait before asking again."""
    key = f"cadence:rate429:{endpoint}:{account_id}"
    if redis.set(key, 1, nx=True, px=WINDOW_MS):
        return random.uniform(*HICCUP_SECONDS)
    return WINDOW_MS / 1000


def acquire(
    redis: redis_lib.Redis, account_id: int, endpoint: str, *, max_wait: float = 0.0
) -> None:
    """Wait (up to max_wait seconds) until a call is allowed; raise RateLimited otherwise."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = take(redis, account_id, endpoint)
        if wait == 0:
            return
        if time.monotonic() + wait > deadline:
            raise RateLimited(endpoint, wait)
        time.sleep(wait)
