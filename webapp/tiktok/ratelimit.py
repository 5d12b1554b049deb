"""TikTok's per-token limits (creator_info 20/min, each init 6/min, status 30/min), kept in Redis
so every worker and web process shares one count. A sliding window (Redis's own clock, in a Lua
script) is at least as strict as TikTok's, so normal operation never meets a 429.
"""

from __future__ import annotations

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


def take(redis: redis_lib.Redis, account_id: int, endpoint: str) -> float:
    """Count one call if the limit allows it (return 0), else return the seconds to wait."""
    key = f"cadence:rate:{endpoint}:{account_id}"
    wait_ms = redis.eval(_SCRIPT, 1, key, WINDOW_MS, LIMITS[endpoint], uuid.uuid4().hex)
    return int(wait_ms) / 1000


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
