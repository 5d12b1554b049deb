"""`make test`: the whole suite on SQLite and on PostgreSQL at the same time, saying loudly what it
skipped; `make test-fast` (--fast): the quick loop on SQLite only.

Each pass runs its tests on pytest-xdist workers (CADENCE_TEST_WORKERS: default 2 for `make test`,
4 for --fast and for CADENCE_TEST_PASSES=sequential, one pass after the other), then the tests
marked `serial` alone. Isolation, so that nothing wipes another's data:
  Redis     TEST_REDIS_URL names the first DB index (default 8). With N workers per pass the
            SQLite pass takes indexes base .. base+N-1 and the PostgreSQL pass base+N .. base+2N-1
            (default: 8..9 and 10..11; with N=4, 8..15). DB 0 is the app's own default, never used;
            1..7 stay free for a second checkout (e.g. TEST_REDIS_URL=redis://127.0.0.1:6379/4).
  Postgres  schema <CADENCE_TEST_PG_SCHEMA>_<pg|lite>_<worker> (default prefix cadence_test), plus
            the _migration and _chaos schemas derived from it (tests/conftest.py).
  Files     each worker's tmp_path (pytest's per-worker base temp); ports are picked free.

PostgreSQL comes from TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test),
Chromium from CHROMIUM_PATH (default /usr/bin/chromium). Under CI=true nothing may be skipped.
Extra arguments go to every pytest run. Each pass's output is kept in a file and printed whole
when both are done, followed by each pass's wall time and its ten slowest tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/8")
# Workers per pass, measured on the 2-core machine (README, "Which to run"): the tests wait on
# subprocesses, HTTP and Chromium as much as they compute, so more workers than cores pays.
# `make test` runs its two passes at once with 2 workers each; `make test-fast`, one pass, uses 4.
WORKERS = int(os.environ.get("CADENCE_TEST_WORKERS") or 0)
# CADENCE_TEST_PASSES=sequential runs the PostgreSQL pass after the SQLite one (same Redis DBs).
SEQUENTIAL = os.environ.get("CADENCE_TEST_PASSES", "") == "sequential"
FAST_DESELECT = "not browser and not chaos and not recording"
# Exit code 5: no tests collected (e.g. no test is marked serial).
NOTHING_COLLECTED = 5


def banner(text: str) -> None:
    """Print text where nobody can miss it."""
    line = "!" * 78
    print(f"\n{line}\n!! {text}\n{line}\n", flush=True)


def postgres_answers() -> bool:
    """Tell whether PostgreSQL accepts a connection at TEST_DATABASE_URL."""
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means it doesn't answer
        return False


def chromium_path() -> str | None:
    """Return the Chromium binary the browser tests will drive, if installed."""
    candidate = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return candidate if Path(candidate).is_file() else shutil.which("chromium")


def redis_range(offset: int, workers: int) -> str:
    """Return TEST_REDIS_URL moved up by offset DB indexes, refusing to leave 1..15."""
    match = re.fullmatch(r"(redis://[^/]+)/(\d+)", REDIS_BASE)
    if not match:
        raise SystemExit(f"TEST_REDIS_URL must end in a DB index like /8, not {REDIS_BASE!r}")
    first = int(match.group(2)) + offset
    last = first + max(workers, 1) - 1
    if first < 1 or last > 15:
        raise SystemExit(
            f"Redis DBs {first}..{last} are outside 1..15: lower TEST_REDIS_URL's index "
            "or CADENCE_TEST_WORKERS"
        )
    return f"{match.group(1)}/{first}"


def marks(*expressions: str) -> list[str]:
    """Return pytest's -m option for the conjunction of the non-empty expressions."""
    parts = [f"({e})" for e in expressions if e]
    return ["-m", " and ".join(parts)] if parts else []


class Pass:
    """One engine's run: the parallel part, then the serial part, output kept in a file."""

    def __init__(self, name: str, env: dict, select: str, extra: list[str], workers: int):
        self.name, self.env, self.select, self.extra = name, env, select, extra
        self.workers = workers
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in report()
            "w+", prefix=f"cadence-{name.lower()}-", suffix=".log", delete=False
        )
        self.code = 0
        self.seconds = 0.0

    def pytest(self, args: list[str]) -> int:
        """Run pytest with args, appending its output to the log; return its exit code."""
        command = [sys.executable, "-m", "pytest", *args, *self.extra]
        self.log.write(f"$ {' '.join(command)}\n")
        self.log.flush()
        return subprocess.call(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def run(self) -> None:
        """Run the parallel part (xdist) and then the serial part."""
        start = time.monotonic()
        # worksteal: an idle worker takes queued tests from a busy one, so one long test (the
        # in-suite chaos run) doesn't leave a queue of short ones waiting behind it.
        parallel = ["-n", str(self.workers), "--dist", "worksteal"] if self.workers > 1 else []
        codes = [
            self.pytest([*parallel, "--durations=10", *marks(self.select, "not serial")]),
            self.pytest(["--durations=10", *marks(self.select, "serial")]),
        ]
        codes[1] = 0 if codes[1] == NOTHING_COLLECTED else codes[1]
        self.code = max(codes)
        self.seconds = time.monotonic() - start
        print(f"--- {self.name} pass finished in {self.seconds:.0f} s", flush=True)

    def slowest(self) -> list[str]:
        """Return the slowest-tests lines pytest printed, slowest first (both parts merged)."""
        self.log.seek(0)
        rows = re.findall(r"^(\d+\.\d+)s (setup|call|teardown) +(.+?)\s*$", self.log.read(), re.M)
        rows.sort(key=lambda row: float(row[0]), reverse=True)
        return [f"{float(s):7.2f}s {when:<8} {test}" for s, when, test in rows[:10]]

    def report(self) -> None:
        """Print the whole log of the pass."""
        self.log.seek(0)
        print(f"\n{'=' * 30} {self.name} {'=' * 30}", flush=True)
        sys.stdout.write(self.log.read())
        print(f"(log kept at {self.log.name})")


def main(argv: list[str]) -> int:
    """Run the suite on both engines at once (or the quick loop with --fast) and report."""
    fast = "--fast" in argv
    extra = [a for a in argv if a != "--fast"]
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    skipped: list[str] = []
    env = dict(os.environ)
    select = FAST_DESELECT if fast else ""
    browser = chromium_path()
    if browser:
        env["CHROMIUM_PATH"] = browser
    elif not fast:
        skipped.append("browser tests: no Chromium at /usr/bin/chromium (apt-get install chromium)")
        select = "not browser"
    have_pg = not fast and postgres_answers()
    if not fast and not have_pg:
        skipped.append(f"the PostgreSQL run: nothing answers at {PG_URL} (set TEST_DATABASE_URL)")
    # The quick loop checks migrations on SQLite alone when PostgreSQL isn't there.
    env["CADENCE_REQUIRE_POSTGRES"] = "1" if have_pg else ""
    if ci and skipped:
        for item in skipped:
            banner(f"CI=true and this would be skipped: {item}")
        return 2
    for item in skipped:
        banner(f"SKIPPING {item}")
    workers = WORKERS or (4 if fast or SEQUENTIAL else 2)
    sqlite_env = {**env, "CADENCE_TEST_DB": "sqlite", "TEST_REDIS_URL": redis_range(0, workers)}
    passes = [Pass("SQLite", sqlite_env, select, extra, workers)]
    if have_pg:
        # Passes running at once take consecutive ranges of Redis DBs; one after the other share.
        pg_redis = redis_range(0 if SEQUENTIAL else workers, workers)
        pg_env = {**env, "CADENCE_TEST_DB": "postgresql", "TEST_REDIS_URL": pg_redis}
        # Tests that don't depend on the engine ran in the SQLite pass already.
        pg_select = " and ".join(filter(None, [select, "not engine_independent"]))
        passes.append(Pass("PostgreSQL", pg_env, pg_select, extra, workers))
    names = " and ".join(p.name for p in passes)
    how = "one after the other" if SEQUENTIAL else "at once"
    print(
        f"Running the {names} pass{'es ' + how if len(passes) > 1 else ''} "
        f"({workers} workers each); output follows when done.",
        flush=True,
    )
    start = time.monotonic()
    if SEQUENTIAL:
        for p in passes:
            p.run()
    else:
        threads = [threading.Thread(target=p.run) for p in passes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    total = time.monotonic() - start
    for p in passes:
        p.report()
    print("\n=== Slowest tests ===")
    for p in passes:
        print(f"  {p.name}:")
        for line in p.slowest():
            print(f"    {line}")
    print("\n=== Summary ===")
    for p in passes:
        status = "passed" if p.code == 0 else f"FAILED (exit {p.code})"
        print(f"  {p.name:<11} {status:<16} wall {p.seconds:5.0f} s")
    print(f"  {'Total':<11} {'':<16} wall {total:5.0f} s")
    for item in skipped:
        print(f"  SKIPPED    {item}")
    return max(p.code for p in passes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
