"""Worker entry: `python -m jobs.worker` runs Cadence's RQ workers (WORKERS processes, 2 by
default); each also promotes due scheduled jobs under RQ's scheduler lock and ticks the periodic
work (reconciler, token refresh, account checks), see jobs.periodic.

Each process runs its jobs on threads, not forks (webapp.tasks.ThreadedWorker): publishing is
waiting on the network (TikTok is 100-300 ms away, uploads share one uplink), so one process can
carry many at once. Two lanes: the main queue (checks, inits at the due second, status checks,
everything short) gets INIT_THREADS threads, enough for every post due within a LEAD of each
other; the upload queue gets UPLOAD_THREADS, enough to keep the link busy. A lane that is full
stops being listened to, so an upload waiting for a thread never delays an init.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time

from redis import Redis
from redis.exceptions import RedisError

import jobs
from jobs import context
from webapp.config import ConfigError
from webapp.db import bind_pooled
from webapp.tasks import libc

log = logging.getLogger("jobs.worker")

# Seconds before a worker that stopped on an error (Redis gone, a crash) is started again: one
# more step per failure in a row; a worker that ran for HEALTHY_SECONDS starts the count afresh.
RESTART_BACKOFF = (1, 2, 4, 8, 15)
HEALTHY_SECONDS = 60


def _backoff(failures: int) -> int:
    return RESTART_BACKOFF[min(failures, len(RESTART_BACKOFF)) - 1] if failures else 0


def _preload() -> None:
    """Import the publishing, media and email jobs once, before the worker processes start (the
    audit kit's mockup job, rare and heavy, loads when it runs)."""
    import jobs.health
    import jobs.media
    import jobs.notifications
    import jobs.publishing
    import jobs.upkeep
    import jobs.webhooks  # noqa: F401


def _limit_malloc_arenas() -> None:
    """Keep glibc to 2 malloc arenas: by default each of the many job threads may get its own,
    and the memory freed in one is never reused by another (the process grows by hundreds of
    MB with nothing in use)."""
    c = libc()
    if c is not None:
        c.mallopt(-8, 2)  # M_ARENA_MAX


def _wait_longer_for_sqlite() -> None:
    """On SQLite, a job thread waits up to a minute for the write lock: with a hundred job
    threads writing at the due second, SQLite's default 5 s ran out ("database is locked")."""
    from webapp.db import db, engine_name

    if engine_name() == "sqlite":
        # What pragma(..., permanent=True) does, without a connection open yet: every
        # connection the job threads open applies it.
        pragmas = dict(db.obj._pragmas or ())
        pragmas["busy_timeout"] = 60_000
        db.obj._pragmas = list(pragmas.items())


def _work(redis_url: str, burst: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _limit_malloc_arenas()
    bind_pooled(context.settings()["DATABASE_URL"])  # job threads share a bounded pool
    _wait_longer_for_sqlite()
    connection = Redis.from_url(redis_url)
    worker = jobs.new_worker(connection)
    if burst:
        # Drain what is due now (promoting due scheduled jobs once), then exit.
        from jobs.periodic import Promoter

        promoter = Promoter(connection)
        promoter.step()
        promoter.stop()
        worker.work(burst=True)
        worker.wait_for_jobs()  # quitting on an error leaves them running
        return
    # Every worker promotes due jobs (one at a time, under RQ's scheduler lock) and ticks the
    # periodic work; see jobs.periodic.
    from jobs.periodic import start_ticker

    _thread, promoter = start_ticker(connection)
    try:
        _work_until_stopped(connection, worker)
    finally:
        promoter.stop()


def _work_until_stopped(connection: Redis, worker) -> None:
    """Run RQ workers one after another until a stop is requested. RQ's worker quits on a Redis
    error it doesn't retry itself (Redis killed while a job runs; down when the worker
    registers); a new one takes over as soon as Redis answers again (after a backoff when the
    worker quit with Redis fine), so the process outlives Redis restarts. The jobs the old one
    started run on, and a stop waits for them too."""
    failures = 0
    current, last = worker, worker  # last: the worker whose signal handlers are installed
    retired: list = []  # workers that quit with jobs still running on their threads
    while True:
        started = time.monotonic()
        try:
            current = current or jobs.new_worker(connection)  # registering reads Redis too
            last = current
            current.work(with_scheduler=False)
            reason = "it quit on an error"
        except RedisError as exc:
            reason = f"Redis: {exc}"
        if current is not None:
            retired.append(current)
        if getattr(last, "_stop_requested", False):
            break
        if _redis_answers(connection):
            failures = 1 if time.monotonic() - started >= HEALTHY_SECONDS else failures + 1
            delay = _backoff(failures)
        else:
            delay = 0
        log.warning("RQ worker stopped (%s); starting a new one in %d s", reason, delay)
        deadline = time.monotonic() + delay
        # Redis restarting: poll it, and take jobs again the moment it answers.
        while time.monotonic() < deadline or not _redis_answers(connection):
            if getattr(last, "_stop_requested", False):  # SIGTERM reaches RQ's handler
                break
            time.sleep(0.2)
        if getattr(last, "_stop_requested", False):
            break
        current = None
    for old in retired:
        old.wait_for_jobs()


def _redis_answers(connection: Redis) -> bool:
    try:
        return bool(connection.ping())
    except RedisError:
        return False


def main(argv: list[str] | None = None) -> int:
    """Run the workers until stopped; `--burst` drains the queue and exits; `--workers N`."""
    args = sys.argv[1:] if argv is None else argv
    try:
        settings = context.settings()
    except ConfigError as exc:
        print(f"Cadence worker can't start: {exc}", file=sys.stderr)
        return 1
    burst = "--burst" in args
    _preload()
    count = settings["WORKERS"]
    if "--workers" in args:
        try:
            count = int(args[args.index("--workers") + 1])
        except (IndexError, ValueError):
            print("Cadence worker can't start: --workers needs a number", file=sys.stderr)
            return 1
    count = max(1, count)
    url = settings["REDIS_URL"]
    if count == 1:
        _work(url, burst)
        return 0

    # Children are forked before any connection exists; each runs a whole RQ worker.
    def spawn() -> multiprocessing.Process:
        child = multiprocessing.Process(target=_work, args=(url, burst), daemon=False)
        child.start()
        return child

    children = [spawn() for _ in range(count)]
    stopping: list[int] = []

    def stop(signum, _frame):
        stopping.append(signum)
        for child in children:
            if child.is_alive() and child.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if burst:
        for child in children:
            child.join()
        return 0
    _supervise(children, spawn, stopping)
    return 0


def _supervise(children: list, spawn, stopping: list) -> None:
    """Start a new child in place of one that died (killed, out of memory), with a backoff,
    until a stop is requested; then wait for the children to finish."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    born = [time.monotonic()] * len(children)
    failures = [0] * len(children)
    due: dict[int, float] = {}
    while not stopping:
        now = time.monotonic()
        for i, child in enumerate(children):
            if child.is_alive() or i in due:
                continue
            failures[i] = 1 if now - born[i] >= HEALTHY_SECONDS else failures[i] + 1
            delay = _backoff(failures[i])
            log.warning(
                "worker process %s exited (code %s); starting a new one in %d s",
                child.pid,
                child.exitcode,
                delay,
            )
            due[i] = now + delay
        for i, when in list(due.items()):
            if when <= now and not stopping:
                del due[i]
                children[i], born[i] = spawn(), time.monotonic()
        time.sleep(0.5)
    for child in children:
        child.join()


if __name__ == "__main__":
    sys.exit(main())
