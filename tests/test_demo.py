"""`make demo`'s launcher end to end: private ports, the real sandbox, web, worker, a sign-in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# Run once, not in both passes: the launcher always migrates and seeds its own SQLite file
# (scripts/demo.py), whatever engine the suite runs on, so a second pass would test the same thing.
pytestmark = pytest.mark.engine_independent

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_demo(env: dict, timeout: int) -> subprocess.CompletedProcess:
    """Run the demo launcher in smoke mode (start, sign in once, stop)."""
    command = [sys.executable, "scripts/demo.py", "--smoke"]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_demo_starts_everything_and_the_admin_can_sign_in(tmp_path, redis_url):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TIKTOK_AUTH_BASE_URL", "TIKTOK_API_BASE_URL", "DATABASE_URL", "SECRET_KEY"}
    }
    env.update(
        {
            "CADENCE_INSTANCE": str(tmp_path / "instance"),
            "CADENCE_DOTENV": "",
            "PORT": str(free_port()),
            "SANDBOX_PORT": str(free_port()),
            "REDIS_URL": redis_url,
        }
    )
    result = run_demo(env, timeout=240)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert f"Cadence is running at   http://127.0.0.1:{env['PORT']}" in out
    assert "Sign in as              admin@cadence.demo" in out
    assert f"TikTok API              http://127.0.0.1:{env['SANDBOX_PORT']}  (local sandbox)" in out
    assert "Smoke check passed" in out
    password = (tmp_path / "instance" / "demo-login.txt").read_text().strip()
    assert f"Password                {password}" in out
    samples = tmp_path / "instance" / "media" / "samples"
    assert (samples / "sample-vertical.mp4").stat().st_size > 10_000
    assert (samples / "sample-photo.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    import sqlite3

    rows = (
        sqlite3.connect(tmp_path / "instance" / "cadence.sqlite3")
        .execute("SELECT original_name, kind, problems FROM media ORDER BY original_name")
        .fetchall()
    )
    assert rows == [("sample-photo.jpg", "photo", "[]"), ("sample-vertical.mp4", "video", "[]")]


def test_demo_says_what_to_install_without_redis(tmp_path):
    env = {
        **os.environ,
        "CADENCE_INSTANCE": str(tmp_path / "i"),
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PATH": "/nonexistent",
        "CADENCE_DOTENV": "",
    }
    result = run_demo(env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "make demo: no Redis answers at redis://127.0.0.1:1/0 and redis-server is not installed: "
        "install it (e.g. `apt-get install redis-server`) or set REDIS_URL"
    )
