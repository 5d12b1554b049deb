"""Follow the generated demo guide literally in Chromium: web (live server), a real worker
process and the sandbox. Every element is found by the label the guide names, so changing a
label in the app without changing the guide (or the other way round) breaks this test."""

from __future__ import annotations

import json
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


# The unaudited walk runs on both engines; this variant adds only other labels and choices.
@pytest.mark.engine_independent
@pytest.mark.parametrize("audited", [True])
def test_the_audited_guide_ends_with_a_branded_post_to_friends(demo, page, admin, tiktok, audited):
    sent = walk_and_check(demo, page, admin, tiktok, True)
    info = sent["post_info"]
    assert info["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS", sent
    assert info["brand_content_toggle"] and info["brand_organic_toggle"], sent


def video_facts(path: Path) -> dict:
    """Read duration, frame rate and size from what the ffmpeg binary says about the file."""
    import re

    import imageio_ffmpeg

    said = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    ).stderr
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", said).groups()
    stream = re.search(r"Video: h264.*?, yuv420p.*?, (\d+)x(\d+).*?, ([\d.]+) fps", said)
    assert stream, said
    return {
        "seconds": int(h) * 3600 + int(m) * 60 + float(s),
        "size": (int(stream[1]), int(stream[2])),
        "fps": float(stream[3]),
    }


def small_frames(path: Path) -> list[bytes]:
    """Decode every frame, shrunk to 320×180 grey."""
    import imageio_ffmpeg

    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(path)]
        + ["-vf", "scale=320:180", "-pix_fmt", "gray", "-f", "rawvideo", "-"],
        capture_output=True,
        check=True,
    ).stdout
    size = 320 * 180
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def difference(a: bytes, b: bytes) -> int:
    """Return how many pixels of two grey frames differ clearly (the drawn cursor moving a
    little already changes a few dozen)."""
    return sum(abs(x - y) > 24 for x, y in zip(a, b, strict=True))


# Run once, not in both passes: the recorder drives the app over HTTP and checks the video it
# writes; the engine behind the pages doesn't change any of that.
@pytest.mark.engine_independent
@pytest.mark.recording
def test_record_films_the_guide_with_cursor_tooltips_and_live_status(demo, app, admin, tiktok):
    """`flask audit-kit record` against the sandbox: a real screen recording of the unaudited
    guide, with motion in every step and each required tooltip on screen while filmed."""
    from webapp.auditkit.record import FPS, HEIGHT, HOVER_MS, WIDTH

    kit = AuditKit.load()
    kit.set_demo_password(PASSWORD)
    kit.save()
    out = Path(app.config["MEDIA_ROOT"]).parent / "demo.mp4"
    log = out.with_suffix(".json")
    guide = steps(False)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "audit-kit", "record"]
        + ["--base-url", demo, "--out", str(out), "--log", str(log)],
        env=worker_env(dict(app.config)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out.with_suffix(".txt").write_text(result.stdout)  # the progress lines, to read on failure
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert lines == [f"[{n}/{len(guide)}] {s.action}" for n, s in enumerate(guide, 1)]

    facts = video_facts(out)
    assert 60 <= facts["seconds"] <= 240, facts
    assert facts["fps"] >= 10 and facts["fps"] == FPS, facts
    assert facts["size"] == (WIDTH, HEIGHT)
    assert out.stat().st_size < 50 * 1024 * 1024

    timeline = json.loads(log.read_text())
    frames = small_frames(out)
    assert len(frames) == pytest.approx(facts["seconds"] * FPS, abs=FPS)
    assert [s["number"] for s in timeline["steps"]] == list(range(1, len(guide) + 1))
    for step in timeline["steps"]:
        # Motion, not stills: within each step (after its caption appears), some frames differ.
        first = int(step["from"] * FPS) + 2
        last = min(int(step["to"] * FPS), len(frames)) - 1
        window = frames[first : last + 1 : 3]
        assert len(window) >= 2, step
        moved = max(difference(a, b) for a, b in zip(window, window[1:], strict=False))
        assert moved >= 10, step

    hovers = {h["label"]: h for h in timeline["hovers"]}
    expected = {s.label: s.tooltip for s in guide if s.role == "hover"}
    assert {label: h["tooltip"] for label, h in hovers.items()} == expected
    for hover in hovers.values():
        # Checked in the page while those frames were filmed: the tooltip was there all along.
        assert hover["to"] - hover["from"] >= HOVER_MS / 1000 - 0.05, hover
        assert len(hover["checks"]) >= 5 and all(ok for _, ok in hover["checks"]), hover
        still = frames[int(hover["from"] * FPS) + 1 : int(hover["to"] * FPS)]
        # Held still while filmed: readable.
        assert still and max(difference(still[0], f) for f in still) < 100, hover

    sent = tiktok.control("state")["publishes"]
    assert len(sent) == 1 and sent[0]["post_info"]["privacy_level"] == "SELF_ONLY"
    for publish in sent:
        assert "cadence" not in json.dumps(publish["post_info"]).lower(), publish


def test_record_without_demo_credentials_is_one_line(app):
    result = app.test_cli_runner().invoke(
        args=["audit-kit", "record", "--base-url", "http://127.0.0.1:9", "--out", "x.mp4"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: no demo email/password: fill in Admin Console → Audit Kit"
    )


def test_record_says_in_one_line_when_chromium_is_missing(monkeypatch, tmp_path):
    from webapp.auditkit.record import RecordError, record

    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(RecordError) as caught:
        record(tmp_path / "x.mp4", base_url="http://127.0.0.1:9", email="a@b.c", password="x")
    assert str(caught.value) == (
        f"no Chromium at {tmp_path / 'no-chromium'} (apt-get install chromium, or set "
        "CHROMIUM_PATH)"
    )


def test_record_says_in_one_line_when_ffmpeg_fails(monkeypatch, tmp_path):
    from webapp.auditkit.record import Encoder, RecordError

    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/bin/false")  # exits at once: the pipe breaks
    encoder = Encoder(tmp_path / "x.mp4")
    encoder.frame(b"\xff\xd8 not really a jpeg", 1000.0)
    encoder.frame(b"\xff\xd8 not really a jpeg", 1001.0)
    with pytest.raises(RecordError) as caught:
        encoder.close(1002.0)
    message = str(caught.value)
    assert message.startswith(f"ffmpeg could not write {tmp_path / 'x.mp4'}: ")
    assert "\n" not in message


@pytest.mark.engine_independent
def test_record_says_in_one_line_when_the_walk_stops(app, tmp_path):
    """No instance at the address: the walk's first step fails, in words, and no file is left."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "x.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "audit-kit", "record"]
        + ["--base-url", f"http://127.0.0.1:{port}", "--out", str(out)]
        + ["--email", "a@example.com", "--password", "secret", "--headless"],
        env=worker_env(dict(app.config)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: the walk through the guide stopped: "), result.stderr
    assert "ERR_CONNECTION_REFUSED" in error
    assert not out.exists()


def test_record_in_a_window_without_a_display_says_so(monkeypatch, tmp_path):
    from webapp.auditkit.record import RecordError, record

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(RecordError, match=r"^a browser window needs a display"):
        record(
            tmp_path / "x.mp4",
            base_url="http://127.0.0.1:9",
            email="a@b.c",
            password="x",
            headless=False,
        )
