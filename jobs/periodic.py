"""Periodic jobs without a single scheduler process: every worker calls `tick()` often, and a
Redis SET NX per time slot lets exactly one of them enqueue each run, on any number of machines.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from redis import Redis
from redis.exceptions import RedisError

import jobs
from jobs import media, publishing, upkeep

log = logging.getLogger(__name__)

# (name, interval in seconds, function)
PERIODIC = [
    ("refresh-tokens", 300, upkeep.refresh_expiring),
    ("account-checks", 60, upkeep.check_upcoming),
    ("reconcile-posts", 15, publishing.reconcile),
    ("media-housekeeping", 300, media.housekeeping),
]
# Run by the ticking process itself, on a thread of its own, not queued: the part of the
# reconciler that matters within seconds (runs whose worker was killed) must not wait for a
# free job thread, and after a database outage every job thread may be busy catching up.
INLINE = [("resume-runs", 2, publishing.resume_dead_runs)]


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


def tick_inline(connection: Redis, now: float | None = None) -> list[threading.Thread]:
    """Start each INLINE function whose current slot nobody took yet; return their threads."""
    now = time.time() if now is None else now
    started = []
    for name, interval, func in INLINE:
        slot = int(now // interval)
        if connection.set(f"cadence:periodic:{name}:{slot}", 1, nx=True, ex=interval * 3):
            thread = threading.Thread(target=_quietly, args=(func,), name=name, daemon=True)
            thread.start()
            started.append(thread)
    return started


def _quietly(func) -> None:
    try:
        func()
    except Exception:  # the database or Redis away: the next slot tries again
        log.warning("%s failed; the next slot tries again", func.__name__, exc_info=True)


class Promoter:
    """Move due scheduled jobs to the queue, as RQ's scheduler does, under RQ's own scheduler lock.

    Every worker process runs one, so whichever holds the lock promotes and the others stand by.
    RQ sets its lock for a minute; the holder cuts that to LOCK_SECONDS on every step, so the lock
    of a holder killed with SIGKILL lapses within seconds and another worker takes over on its
    next step (RQ's own workers only retry every ten minutes, far too late for a post due now).
    """

    LOCK_SECONDS = 5

    def __init__(self, connection: Redis):
        self.connection = connection
        self.scheduler = jobs.scheduler(connection, interval=1)
        self.lock_key = self.scheduler.get_locking_key(jobs.QUEUE_NAME)

    def step(self) -> bool:
        """Take or refresh the lock; promote due jobs when it is ours; tell whether it is."""
        if self.scheduler.acquire_locks():
            self.connection.expire(self.lock_key, self.LOCK_SECONDS)
            self.scheduler.enqueue_scheduled_jobs()
            return True
        return False

    def stop(self) -> None:
        """Give the lock back so another worker takes over at once."""
        with contextlib.suppress(RedisError):
            self.scheduler.release_locks()


def start_ticker(connection: Redis, every: float = 1.0, promote_every: float = 0.5):
    """In a daemon thread of the worker process: say the process is alive and promote due jobs
    twice a second, and call tick() every second. Returns the thread and its Promoter (stop()
    it on shutdown)."""
    promoter = Promoter(connection)

    def run() -> None:
        last_tick = 0.0
        while True:
            with contextlib.suppress(RedisError):  # Redis down or restarting: next step retries
                publishing.announce(connection)
                promoter.step()
                if time.monotonic() - last_tick >= every:
                    last_tick = time.monotonic()
                    tick(connection)
                    tick_inline(connection)
            time.sleep(promote_every)

    thread = threading.Thread(target=run, name="cadence-periodic", daemon=True)
    thread.start()
    return thread, promoter
