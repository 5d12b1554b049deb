"""Worker entry: `python -m jobs.worker` runs Cadence's RQ workers (WORKERS processes, 2 by
default); each also promotes due scheduled jobs under RQ's scheduler lock and ticks the periodic
work (reconciler, token refresh, account checks), see jobs.periodic.

Each process runs its jobs on threads, not forks: publishing is waiting on the network (TikTok is
100-300 ms away, uploads share one uplink), so one process can carry many at once. Two lanes:
the main queue (checks, inits at the due second, status checks, everything short) gets
INIT_THREADS threads, enough for every post due within a LEAD of each other; the upload queue
gets UPLOAD_THREADS, enough to keep the link busy. A lane that is full stops being listened to,
so an upload waiting for a thread never delays an init.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading

from redis import Redis
from rq.exceptions import DequeueTimeout
from rq.queue import Queue
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus

import jobs
from jobs import context
from webapp.config import ConfigError


def _preload() -> None:
    """Import every job module once, so the process RQ forks for each job starts warm."""
    import jobs.accounts
    import jobs.health
    import jobs.publishing
    import jobs.webhooks  # noqa: F401


INIT_THREADS = 128  # per process: every post due in the same few seconds waits on its own
UPLOAD_THREADS = 4  # per process: a few uploads each keep the link busy between chunk replies


@functools.cache
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None


def _limit_malloc_arenas() -> None:
    """Keep glibc to 2 malloc arenas: by default each of the many job threads may get its own,
    and the memory freed in one is never reused by another (the process grows by hundreds of
    MB with nothing in use)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(-8, 2)  # M_ARENA_MAX


def _trim() -> None:
    """Give the memory a finished job freed back to the system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


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


class ThreadedWorker(SimpleWorker):
    """An RQ worker that runs each job on a thread of its queue's lane, in this process.

    RQ keeps one `execution` per worker; here it is per thread. Job timeouts use RQ's timer
    (signals only reach the main thread). SIGTERM stops taking jobs (within a second) and waits
    for the running ones, as RQ's own warm shutdown does; a second SIGTERM ends the process.
    """

    death_penalty_class = TimerDeathPenalty
    lanes = {jobs.QUEUE_NAME: INIT_THREADS, jobs.UPLOAD_QUEUE: UPLOAD_THREADS}

    @property
    def execution(self):
        return getattr(self.__dict__.setdefault("_local", threading.local()), "execution", None)

    @execution.setter
    def execution(self, value) -> None:
        self.__dict__.setdefault("_local", threading.local()).execution = value

    def _lanes(self):
        if "_free" not in self.__dict__:
            self._free = {queue.name: self.lanes.get(queue.name, 1) for queue in self.queues}
            self._running = 0
            self._changed = threading.Condition()
        return self._free

    def _shutdown(self):
        # Stop dequeuing at the next turn of the loop; running jobs finish (see work()).
        self._stop_requested = True
        self.set_shutdown_requested_date()
        if self.scheduler:
            self.stop_scheduler()

    def prepare_job_execution(self, job, remove_from_intermediate_queue: bool = False) -> None:
        # With two queues RQ leaves the id in the intermediate list for maintenance; drop it now.
        super().prepare_job_execution(job, True)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Return the next job of a lane with a free thread, or None to stop (burst done)."""
        free = self._lanes()
        while not self._stop_requested:
            self.heartbeat()
            with self._changed:
                open_queues = [queue for queue in self.queues if free[queue.name] > 0]
                if not open_queues:
                    self._changed.wait(1)
                    continue
            if timeout is None:  # burst: take what is there, never block
                result = self._dequeue(open_queues, None)
            else:  # block a second at most, to look at the lanes and the stop flag again
                result = self._dequeue(open_queues, 1)
            if result is not None:
                return result
            if timeout is None:  # burst: done when nothing runs that could queue more
                with self._changed:
                    if not self._running:
                        return None
                    self._changed.wait(0.2)
        return None

    def _dequeue(self, queues, timeout):
        try:
            return Queue.dequeue_any(
                queues,
                timeout,
                connection=self.connection,
                job_class=self.job_class,
                serializer=self.serializer,
                death_penalty_class=self.death_penalty_class,
            )
        except DequeueTimeout:
            return None

    def execute_job(self, job, queue) -> None:
        """Start job on a thread of its queue's lane and return at once."""
        free = self._lanes()
        with self._changed:
            free[queue.name] -= 1
            self._running += 1
        thread = threading.Thread(
            target=self._perform, args=(job, queue), name=f"job-{job.id}", daemon=True
        )
        thread.start()

    def _perform(self, job, queue) -> None:
        try:
            self.prepare_execution(job)
            self.perform_job(job, queue)
        except Exception:  # perform_job records job failures itself; this is RQ's own trouble
            self.log.exception("Worker %s: job %s could not be run", self.name, job.id)
        finally:
            self.execution = None
            with self._changed:
                self._free[queue.name] += 1
                self._running -= 1
                if not self._running:
                    self.set_state(WorkerStatus.IDLE)
                self._changed.notify_all()
            _trim()

    def wait_for_jobs(self) -> None:
        """Block until every job started here has ended."""
        self._lanes()
        with self._changed:
            while self._running:
                self._changed.wait(1)

    def teardown(self) -> None:
        self.wait_for_jobs()  # a warm stop: the running jobs end before the worker leaves
        super().teardown()


def _work(redis_url: str, burst: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _limit_malloc_arenas()
    _wait_longer_for_sqlite()
    connection = Redis.from_url(redis_url)
    worker = jobs.new_worker(connection, ThreadedWorker)
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
