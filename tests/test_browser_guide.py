"""Follow the generated demo guide literally in Chromium: web (live server), a real worker
process and the sandbox. Every element is found by the label the guide names, so changing a
label in the app without changing the guide (or the other way round) breaks this test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.test_browser_accounts import settings  # noqa: F401 - the app talks to the sandbox
from tests.test_publishing import add_media, worker_env
from webapp.auditkit.guide import steps
from webapp.auditkit.walk import DEMO_ACCOUNT, walk
from webapp.models import AuditKit, TikTokService

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app, live_server, admin, tiktok, audited):
    """Web, a real worker process and the sandbox, with a video and the demo user set."""
    app.config["PUBLIC_URL"] = live_server
    service = TikTokService.load()
    service.audited = audited
    service.save()
    kit = AuditKit.load()
    kit.demo_email = admin.email
    kit.save()
    add_media(admin, dict(app.config), name="demo.mp4")
    process = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--workers", "1"],
        env=worker_env(dict(app.config)),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield live_server
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@pytest.fixture
def audited():
    """The guide's variant: unaudited unless a test says otherwise."""
    return False


def walk_and_check(demo, page, admin, tiktok, audited):
    seen = []

    def check(number, step, shown):
        seen.append(number)
        if shown is page and number > 1:
            # The reviewer's panel, on the step that follows this one.
            panel = page.locator(".guide-panel")
            assert panel.count() == 1, step
        if step.label == "Open on TikTok":
            # A private account's posts are never public: the link opens its profile.
            assert shown.url.rstrip("/") == f"{tiktok.url}/@{DEMO_ACCOUNT}", shown.url

    walk(page, demo, admin.email, PASSWORD, audited=audited, video="demo.mp4", on_step=check)
    assert seen == list(range(1, len(steps(audited)) + 1))
    publishes = tiktok.control("state")["publishes"]
    assert len(publishes) == 1
    return publishes[0]


def test_the_unaudited_guide_walks_through_to_the_private_post(demo, page, admin, tiktok):
    """Every step by its label, each hover's tooltip asserted; the post goes out "Only me"."""
    sent = walk_and_check(demo, page, admin, tiktok, False)
    assert sent["post_info"]["privacy_level"] == "SELF_ONLY", sent
    assert "Cadence" not in sent["post_info"]["title"]


@pytest.mark.parametrize("audited", [True])
def test_the_audited_guide_ends_with_a_branded_post_to_friends(demo, page, admin, tiktok, audited):
    sent = walk_and_check(demo, page, admin, tiktok, True)
    info = sent["post_info"]
    assert info["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS", sent
    assert info["brand_content_toggle"] and info["brand_organic_toggle"], sent


# Run once, not in both passes: the recorder drives the app over HTTP and checks the video it
# writes (frames, captions, length); the engine behind the pages doesn't change any of that.
@pytest.mark.engine_independent
@pytest.mark.recording
def test_record_writes_a_playable_mp4_of_the_guide(demo, app, admin):
    """`flask audit-kit record` against the sandbox: headless, end to end, one caption a step."""
    import imageio_ffmpeg

    from webapp.auditkit.record import FPS, HEIGHT, SECONDS_PER_STEP, WIDTH

    kit = AuditKit.load()
    kit.set_demo_password(PASSWORD)
    kit.save()
    out = Path(app.config["MEDIA_ROOT"]).parent / "demo.mp4"
    env = worker_env(dict(app.config))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "webapp",
            "audit-kit",
            "record",
            "--base-url",
            demo,
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == len(STEPS) and lines[0].startswith(f"[1/{len(STEPS)}]")
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert seconds == pytest.approx(len(STEPS) * SECONDS_PER_STEP, abs=0.2)
    assert frames == pytest.approx(len(STEPS) * SECONDS_PER_STEP * FPS, abs=2)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert tuple(meta["size"]) == (WIDTH, HEIGHT)
    reader.close()
    assert out.stat().st_size < 50 * 1024 * 1024


def test_record_without_demo_credentials_is_one_line(app):
    result = app.test_cli_runner().invoke(
        args=["audit-kit", "record", "--base-url", "http://127.0.0.1:9", "--out", "x.mp4"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: no demo email/password: fill in Admin Console → Audit Kit"
    )
