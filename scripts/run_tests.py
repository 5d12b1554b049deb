"""`make test`: the whole suite on SQLite, then again on PostgreSQL, saying loudly what it skipped.

PostgreSQL comes from TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test),
Chromium from CHROMIUM_PATH (default /usr/bin/chromium). Under CI=true nothing may be skipped.
Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


def run(label: str, env: dict, args: list[str]) -> int:
    """Run pytest once and return its exit code."""
    print(f"\n=== {label} ===", flush=True)
    command = [sys.executable, "-m", "pytest", *args]
    return subprocess.call(command, cwd=ROOT, env=env)


def main(extra: list[str]) -> int:
    """Run the suite on both engines and report."""
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    skipped: list[str] = []
    env = dict(os.environ)
    marks: list[str] = []
    browser = chromium_path()
    if browser:
        env["CHROMIUM_PATH"] = browser
    else:
        skipped.append("browser tests: no Chromium at /usr/bin/chromium (apt-get install chromium)")
        marks = ["-m", "not browser"]
    have_pg = postgres_answers()
    if not have_pg:
        skipped.append(f"the PostgreSQL run: nothing answers at {PG_URL} (set TEST_DATABASE_URL)")
    env["CADENCE_REQUIRE_POSTGRES"] = "1" if have_pg else ""
    if ci and skipped:
        for item in skipped:
            banner(f"CI=true and this would be skipped: {item}")
        return 2
    for item in skipped:
        banner(f"SKIPPING {item}")
    results = {"SQLite": run("SQLite", {**env, "CADENCE_TEST_DB": "sqlite"}, [*marks, *extra])}
    if have_pg:
        # The sandbox's contract tests don't touch our database; once is enough.
        results["PostgreSQL"] = run(
            "PostgreSQL",
            {**env, "CADENCE_TEST_DB": "postgresql"},
            [*marks, "--ignore=tests/sandbox", *extra],
        )
    print("\n=== Summary ===")
    for name, code in results.items():
        print(f"  {name:<11} {'passed' if code == 0 else f'FAILED (exit {code})'}")
    for item in skipped:
        print(f"  SKIPPED    {item}")
    return max(results.values())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
