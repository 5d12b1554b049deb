"""Uploads are checked off the web request by a real RQ worker; ffmpeg reads only the containers
Cadence accepts, within time and memory bounds; derived files never outlive their media.

Here MEDIA_CHECKS is "queue", as in production: the upload only stores the file, and a
`python -m jobs.worker --burst` process does the probing and the cover frames. (Elsewhere in the
suite the check runs inline, in the upload request, through the very same function.)
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import csrf_token, ffmpeg_sample, login, make_user
from tests.test_composer import form, maya, submit  # noqa: F401 - the connected account
from tests.test_jobs import run_worker_burst
from tests.test_media import upload
from tests.test_mediafacts import files  # noqa: F401 - the generated sample files
from webapp import ffmpeg
from webapp.db import engine_name
from webapp.media.storage import check, cover_frames, frames_dir
from webapp.mediafacts import probe
from webapp.models import Media, Post

UNREADABLE = "This file isn&#39;t a video or image that can be read"


@pytest.fixture
def settings(settings):
    """Check uploads in a job, as production does."""
    return {**settings, "MEDIA_CHECKS": "queue"}


def _colour_clip(path: Path, colour: str) -> Path:
    return ffmpeg_sample(
        path,
        "-f",
        "lavfi",
        "-i",
        f"color=c={colour}:size=720x1280:rate=30:duration=3",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
    )


def _burst(settings: dict) -> None:
    result = run_worker_burst(settings)
    assert result.returncode == 0, result.stderr


def test_upload_is_checked_by_a_job_and_its_row_shows_progress(
    admin_client,
    maya,  # noqa: F811
    files,  # noqa: F811
    settings,
    app,
):
    reply = upload(admin_client, (files["good"], "holiday.mp4"))
    assert reply.status_code == 303
    media = Media.get()
    assert (media.status, media.kind) == ("checking", "")  # nothing probed in the request
    page = admin_client.get("/media/").get_data(as_text=True)
    assert "Checking… reading the file (step 1 of 2)" in page
    row = admin_client.get(f"/media/{media.id}/row").get_data(as_text=True)
    assert f'id="media-{media.id}"' in row and 'hx-swap="outerHTML"' in row
    assert 'hx-trigger="load delay:1s"' in row  # polls itself while the check runs
    with app.test_request_context():
        assert cover_frames(media) == []
    # Not offered in the composer, and refused when sent anyway.
    compose = admin_client.get("/compose/").get_data(as_text=True)
    assert f'<option value="{media.id}"' not in compose
    refused = submit(admin_client, form(maya, media))
    assert refused.status_code == 422
    assert "is still being checked" in refused.get_data(as_text=True)
    assert Post.select().count() == 0

    _burst(settings)

    media = Media.get_by_id(media.id)
    assert media.status == "ready", media.problems
    assert (media.kind, media.width, media.height) == ("video", 720, 1280)
    assert media.stored_name.endswith(".mp4")
    stored = Path(settings["MEDIA_ROOT"]) / media.stored_name
    assert stored.read_bytes() == files["good"].read_bytes()
    row = admin_client.get(f"/media/{media.id}/row").get_data(as_text=True)
    assert "hx-trigger" not in row and "✓ Meets them" in row and "720×1280" in row
    with app.test_request_context():
        stamps = cover_frames(media)
    assert len(stamps) == 6
    frame = admin_client.get(f"/media/{media.id}/frame/{stamps[0]}.jpg")
    assert frame.status_code == 200 and frame.data[:3] == b"\xff\xd8\xff"
    # Checking again changes nothing.
    again = check(media.id, settings["MEDIA_ROOT"])
    assert (again.status, again.stored_name, again.sha256) == (
        "ready",
        media.stored_name,
        media.sha256,
    )


def test_another_members_upload_never_gets_a_deleted_videos_thumbnails(
    app, admin, settings, tmp_path
):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    red = _colour_clip(tmp_path / "red.mp4", "red")
    blue = _colour_clip(tmp_path / "blue.mp4", "blue")

    client = app.test_client()
    assert login(client, alice.email).status_code == 303
    upload(client, (red, "red.mp4"))
    _burst(settings)
    first = Media.get(Media.owner == alice.id)
    with client.application.test_request_context():
        stamps = cover_frames(first)
        alices_frames = frames_dir(first)
    assert len(stamps) == 6
    alices = client.get(f"/media/{first.id}/frame/{stamps[0]}.jpg")
    assert alices.status_code == 200
    client.post(f"/media/{first.id}/delete", data={"csrf_token": csrf_token(client, "/media/")})
    assert Media.get_or_none(Media.id == first.id) is None
    assert not alices_frames.exists()  # deleted with the media

    client = app.test_client()
    assert login(client, bob.email).status_code == 303
    upload(client, (blue, "blue.mp4"))
    second = Media.get(Media.owner == bob.id)
    if engine_name() == "sqlite":
        assert second.id == first.id  # SQLite hands the deleted row's id to the next upload
    # While Bob's file is being checked, and after: never Alice's pixels.
    for _ in range(2):
        for ms in stamps:
            frame = client.get(f"/media/{second.id}/frame/{ms}.jpg")
            assert frame.status_code in (200, 404)
            assert frame.data != alices.data
        _burst(settings)
    assert Media.get_by_id(second.id).status == "ready"
    assert client.get(f"/media/{second.id}/frame/{stamps[0]}.jpg").status_code == 200


def _dash(reference: Path) -> str:
    return (
        '<?xml version="1.0"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
        'mediaPresentationDuration="PT3S" minBufferTime="PT1S" '
        'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period>'
        '<AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000" '
        'width="720" height="1280" codecs="avc1.64001f">'
        f"<BaseURL>file://{reference}</BaseURL><SegmentBase/></Representation>"
        "</AdaptationSet></Period></MPD>\n"
    )


def _hls(reference: Path) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\nfile://{reference}\n#EXT-X-ENDLIST\n"


def _ffconcat(reference: Path) -> str:
    return f"ffconcat version 1.0\nfile '{reference}'\n"


@pytest.mark.parametrize("playlist", [_dash, _hls, _ffconcat], ids=["dash", "hls", "ffconcat"])
def test_a_playlist_named_mp4_never_opens_server_paths(
    playlist,
    admin_client,
    files,  # noqa: F811
    settings,
    tmp_path,
):
    # A file the server has (the test's own clip) and one it doesn't: the answers must match,
    # or the probe tells a member which paths exist and what they hold.
    present = files["good"]
    absent = tmp_path / "nowhere" / "missing.mp4"
    (tmp_path / "present.mp4").write_text(playlist(present))
    (tmp_path / "absent.mp4").write_text(playlist(absent))
    found, missing = probe(tmp_path / "present.mp4"), probe(tmp_path / "absent.mp4")
    assert (found.kind, found.width, found.error) == (missing.kind, missing.width, missing.error)
    assert found.kind == "" and found.error.startswith("This file isn't a video or image")

    upload(admin_client, (tmp_path / "present.mp4", "x.mp4"), (tmp_path / "absent.mp4", "y.mp4"))
    _burst(settings)
    rows = {m.original_name: m for m in Media.select()}
    assert rows["x.mp4"].status == rows["y.mp4"].status == "invalid"
    assert rows["x.mp4"].problems == rows["y.mp4"].problems == [missing.error]
    page = admin_client.get("/media/").get_data(as_text=True)
    assert page.count(UNREADABLE) == 2


def _ffmpeg_reading(path: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(path).encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def test_an_ffmpeg_run_past_its_time_bound_is_stopped(tmp_path):
    # A named pipe nobody writes to: ffmpeg waits for it forever unless stopped.
    stuck = tmp_path / "stuck.mp4"
    os.mkfifo(stuck)
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        ffmpeg.run(stuck, seconds=1)
    assert time.monotonic() - started < 10
    assert _ffmpeg_reading(stuck) == []  # killed, not left running


def test_an_ffmpeg_run_is_bounded_in_memory_yet_decodes_4k(tmp_path):
    clip = tmp_path / "uhd.mp4"
    ffmpeg_sample(
        clip,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=3840x2160:rate=24:duration=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
    )
    frame = ["-frames:v", "1", "-f", "null", "-"]
    assert ffmpeg.run(clip, after=frame).returncode == 0  # the real bound fits a 4K frame
    starved = ffmpeg.run(clip, after=frame, memory_bytes=128 * 1024**2, seconds=30)
    assert starved.returncode != 0  # the bound is applied to the ffmpeg process itself


@pytest.mark.browser
def test_the_media_page_row_updates_itself_when_the_check_ends(
    live_server,
    page,
    admin,
    settings,
    files,  # noqa: F811
):
    from playwright.sync_api import expect

    from tests.test_browser import sign_in

    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/media/")
    page.get_by_label("Upload videos").set_input_files(str(files["good"]))
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Checking… reading the file", timeout=15_000)
    page.wait_for_timeout(2_500)  # it polls (and stays) while no worker has run
    expect(row).to_contain_text("Checking…")
    _burst(settings)
    # No reload: the row replaces itself with the checked properties, then stops polling.
    expect(row).to_contain_text("✓ Meets them", timeout=10_000)
    expect(row).to_contain_text("720×1280")
    expect(row).not_to_have_attribute("hx-trigger", "load delay:1s")


def test_housekeeping_requeues_lost_checks_makes_missing_covers_and_drops_id_keyed_frames(
    app,
    admin,
    settings,
    files,  # noqa: F811
):
    import datetime as dt
    import shutil

    import jobs
    from jobs.media import housekeeping
    from webapp.media.storage import receive, store
    from webapp.models import utcnow

    root = Path(settings["MEDIA_ROOT"])
    legacy = root / "frames" / "1"
    legacy.mkdir(parents=True)
    (legacy / "250.jpg").write_bytes(b"someone else's thumbnail")
    with app.app_context():
        old = store(files["good"], "before the upgrade.mp4", admin.id)
        shutil.rmtree(frames_dir(old))  # a video checked before covers were kept by name
        lost = receive(files["good"], "worker died.mp4", admin.id)
    Media.update(created_at=utcnow() - dt.timedelta(days=1)).where(Media.id == lost.id).execute()

    jobs.enqueue(app.extensions["redis"], housekeeping, job_id="media-housekeeping-test")
    _burst(settings)  # runs housekeeping, then the jobs it queued

    assert not (root / "frames").exists()
    assert Media.get_by_id(lost.id).status == "ready"
    with app.test_request_context():
        assert len(cover_frames(Media.get_by_id(old.id))) == 6
        assert len(cover_frames(Media.get_by_id(lost.id))) == 6


def test_a_photo_conversion_runs_in_the_job_too(admin_client, settings, files):  # noqa: F811
    from tests.conftest import post_form

    upload(admin_client, (files["png"], "screen.png"))
    _burst(settings)
    original = Media.get()
    assert original.status == "invalid" and original.container == "png"
    done = post_form(
        admin_client, f"/media/{original.id}/convert", token_from="/media/", follow_redirects=True
    )
    assert "Making a TikTok-ready copy, “screen (for TikTok).jpg”" in done.get_data(as_text=True)
    copy = Media.get(Media.original_name == "screen (for TikTok).jpg")
    assert copy.status == "checking"  # nothing converted in the request
    _burst(settings)
    copy = Media.get_by_id(copy.id)
    assert (copy.status, copy.container, copy.problems) == ("ready", "jpeg", [])
    assert copy.stored_name.endswith(".jpg")


def test_production_always_queues_media_checks():
    from webapp.config import checks_inline

    assert checks_inline({"APP_ENV": "test", "MEDIA_CHECKS": "inline"})
    assert not checks_inline({"APP_ENV": "production", "MEDIA_CHECKS": "inline", "DEBUG": True})
    assert not checks_inline({"APP_ENV": "development", "MEDIA_CHECKS": "queue"})
