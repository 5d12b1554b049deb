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

from redis import Redis

import jobs
from jobs import context
from webapp.config import ConfigError
from webapp.tasks import libc


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
        return
    # Every worker promotes due jobs (one at a time, under RQ's scheduler lock) and ticks the
    # periodic work; see jobs.periodic.
    from jobs.periodic import start_ticker

    _thread, promoter = start_ticker(connection)
    try:
        worker.work(with_scheduler=False)
    finally:
        promoter.stop()


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
    children = [
        multiprocessing.Process(target=_work, args=(url, burst), daemon=False) for _ in range(count)
    ]
    for child in children:
        child.start()

    def stop(signum, _frame):
        for child in children:
            if child.is_alive() and child.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
