"""Periodic jobs without a single scheduler process: every worker calls `tick()` often, and a
Redis SET NX per time slot lets exactly one of them enqueue each run, on any number of machines.
"""

from __future__ import annotations

import contextlib
import threading
import time

from redis import Redis
from redis.exceptions import RedisError

import jobs
from jobs import accounts, publishing

# (name, interval in seconds, function)
PERIODIC = [
    ("refresh-tokens", 300, accounts.refresh_expiring),
    ("account-checks", 60, accounts.check_upcoming),
    ("reconcile-posts", 30, publishing.reconcile),
]


def tick(connection: Redis, now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose current slot nobody has enqueued yet; return their ids."""
    now = time.time() if now is None else now
    started = []
    for name, interval, func in PERIODIC:
        slot = int(now // interval)
        if connection.set(f"cadence:periodic:{name}:{slot}", 1, nx=True, ex=interval * 3):
            job_id = f"periodic-{name}-{slot}"
            jobs.enqueue(connection, func, job_id=job_id, result_ttl=interval * 3)
            started.append(job_id)
    return started


def start_ticker(connection: Redis, every: float = 5.0) -> threading.Thread:
    """Call tick() every few seconds in a daemon thread of the worker process."""

    def run() -> None:
        while True:
            with contextlib.suppress(RedisError):  # Redis down or restarting: next tick retries
                tick(connection)
            time.sleep(every)

    thread = threading.Thread(target=run, name="cadence-periodic", daemon=True)
    thread.start()
    return thread
