"""Worker entry: `python -m jobs.worker` runs an RQ worker with its scheduler on Cadence's queue."""

from __future__ import annotations

import logging
import sys

from redis import Redis
from rq import Worker

from jobs import QUEUE_NAME, context
from webapp.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    """Run the worker until it is stopped; `--burst` drains the queue and exits."""
    args = sys.argv[1:] if argv is None else argv
    try:
        settings = context.settings()
    except ConfigError as exc:
        print(f"Cadence worker can't start: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    connection = Redis.from_url(settings["REDIS_URL"])
    worker = Worker([QUEUE_NAME], connection=connection)
    burst = "--burst" in args
    if not burst:
        from jobs.periodic import start_ticker

        start_ticker(connection)
    worker.work(with_scheduler=True, burst=burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
