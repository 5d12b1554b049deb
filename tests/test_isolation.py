"""Parallel runs can't touch each other's data: each xdist worker of each pass of `make test` gets
its own Redis DB and PostgreSQL schema, and DB 0 (the app's default) is never used."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import redis_url_for_worker

ROOT = Path(__file__).resolve().parent.parent


def _isolation_of(worker: str, engine: str, base: str) -> tuple[str, str]:
    """Return (Redis URL, schema) a test process with this worker id, engine and base would use."""
    env = {
        **os.environ,
        "PYTEST_XDIST_WORKER": worker,
        "CADENCE_TEST_DB": engine,
        "TEST_REDIS_URL": base,
        "CADENCE_TEST_PG_SCHEMA": "iso",
        "PYTHONPATH": str(ROOT),
    }
    code = "from tests import conftest as c; print(c.TEST_REDIS_URL, c.PG_SCHEMA)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    url, schema = out.stdout.split()
    return url, schema


def _run_tests_module():
    spec = importlib.util.spec_from_file_location("run_tests", ROOT / "scripts" / "run_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_xdist_worker_of_each_pass_gets_its_own_redis_db_and_schema():
    run_tests = _run_tests_module()
    seen = set()
    for engine, offset in (("sqlite", 0), ("postgresql", 2)):
        base = run_tests.redis_range(offset, 2)
        for worker in ("gw0", "gw1"):
            seen.add(_isolation_of(worker, engine, base))
    urls = {url for url, _ in seen}
    schemas = {schema for _, schema in seen}
    assert len(urls) == 4 and len(schemas) == 4, seen
    first = int(run_tests.REDIS_BASE.rsplit("/", 1)[1])
    assert {int(url.rsplit("/", 1)[1]) for url in urls} == set(range(first, first + 4))
    assert schemas == {"iso_lite_gw0", "iso_lite_gw1", "iso_pg_gw0", "iso_pg_gw1"}


def test_a_worker_never_lands_on_redis_db_0_or_past_15():
    assert redis_url_for_worker("redis://127.0.0.1:6379/14", 1) == "redis://127.0.0.1:6379/15"
    with pytest.raises(ValueError, match="would use Redis DB 16"):
        redis_url_for_worker("redis://127.0.0.1:6379/14", 2)
    with pytest.raises(ValueError, match="would use Redis DB 0"):
        redis_url_for_worker("redis://127.0.0.1:6379/0", 0)
    with pytest.raises(ValueError, match="DB index"):
        redis_url_for_worker("redis://127.0.0.1:6379", 0)
