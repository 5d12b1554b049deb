"""The web app and the workers outlive database and Redis restarts: a request while the database
is down gets a clear 503 (never a traceback), the next one after the restart works on the same
session, and a worker whose Redis was killed and started again empty takes jobs again by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_lib

from bench.servers import (
    PrivatePostgres,
    PrivateRedis,
    free_port,
    postgres_bindir,
    private_postgres_dir,
)
from tests.conftest import PASSWORD, PG_SCHEMA, SECRET, login, make_user
from webapp import create_app
from webapp.db import connected, migrate

ROOT = Path(__file__).resolve().parent.parent
DOWN = "reach its database right now"


def _app(tmp_path, database_url: str, redis_url: str):
    return create_app(
        {
            "APP_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "PUBLIC_URL": "https://cadence.example.com",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        }
    )


def _assert_503_page(response, *, signed_in_menu: bool = False):
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert DOWN in body and "Traceback" not in body
    assert response.headers["Retry-After"]
    assert "<html" in body and "app.css" in body  # the app's layout
    assert ('class="sidebar"' in body) is signed_in_menu


POSTS = "/w/adas-workspace/posts/"  # Ada's own workspace


@pytest.mark.engine_independent
@pytest.mark.skipif(postgres_bindir() is None, reason="no PostgreSQL server binaries")
def test_web_answers_503_while_postgres_is_down_and_works_again_after_its_restart(
    tmp_path, redis_url
):
    # Under instance/ (the postgres user can't enter pytest's 0700 tmp_path), one per worker.
    with PrivatePostgres(private_postgres_dir(f"restart-pg-{PG_SCHEMA}")) as pg:
        app = _app(tmp_path, pg.url, redis_url)
        migrate()
        with connected():
            make_user("ada@example.com", "admin", name="Ada")
        client = app.test_client()
        assert login(client, "ada@example.com", PASSWORD).status_code == 303
        assert client.get(POSTS).status_code == 200
        pg.kill()
        # A signed-in page, the login page, and an htmx request (JSON, not a whole page).
        _assert_503_page(client.get(POSTS))
        _assert_503_page(app.test_client().get("/login"))
        partial = client.get("/posts/", headers={"HX-Request": "true"})
        assert partial.status_code == 503 and DOWN in partial.get_json()["error"]
        pg.start()  # crash recovery: the user and the session's account survive
        again = client.get(POSTS)
        assert again.status_code == 200 and 'class="sidebar"' in again.get_data(as_text=True)


@pytest.mark.engine_independent
def test_web_answers_503_on_a_database_nobody_listens_on(tmp_path, redis_url):
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    app = _app(tmp_path, closed, redis_url)
    _assert_503_page(app.test_client().get("/login"))
    api = app.test_client().get("/login", headers={"Accept": "application/json"})
    assert api.status_code == 503 and DOWN in api.get_json()["error"]


@pytest.mark.engine_independent
def test_sign_in_answers_503_while_redis_is_down(tmp_path):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = _app(tmp_path, f"sqlite:///{tmp_path}/cadence.sqlite3", closed)
    migrate()
    with connected():
        make_user("ada@example.com", "admin", name="Ada")
    response = login(app.test_client(), "ada@example.com", PASSWORD)  # the throttle is in Redis
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert "reach its job queue right now" in body and "Traceback" not in body


def _rq_workers(connection) -> set[str]:
    return {w.decode() for w in connection.smembers("rq:workers")}


@pytest.mark.engine_independent
def test_worker_takes_jobs_again_after_redis_is_killed_and_restarted_empty(tmp_path):
    private = PrivateRedis()
    _app(tmp_path, f"sqlite:///{tmp_path}/cadence.sqlite3", private.url)
    migrate()
    env = {
        **os.environ,
        "CADENCE_DOTENV": "",
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "test",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path}/cadence.sqlite3",
        "REDIS_URL": private.url,
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        r = redis_lib.Redis.from_url(private.url)
        deadline = time.monotonic() + 30
        while len(_rq_workers(r)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_rq_workers(r)) == 2, log.read_text()
        private.kill()
        time.sleep(1.5)
        private.start()  # empty: no queue, no worker registry
        # The workers take jobs again by themselves: the health ping job writes its result.
        import jobs
        from jobs.health import ping

        job = jobs.enqueue(r, ping, job_id="restart-ping", result_ttl=60)
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.get_status() == "finished", log.read_text()
        assert worker.poll() is None
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        private.stop()
