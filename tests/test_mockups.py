"""The UX mockups PDF, built once for the module the way an operator does it: Admin → Audit Kit
→ "Build the mockups" queues the job, a real RQ worker (burst) runs it, which shoots the real app
(a throwaway Cadence, its own worker and the sandbox) in Chromium; the page's widget shows the
progress, and the PDF is downloaded from the page. The PDF is then read back (text layer, page
count, size) and two pages are rasterised with pdftoppm."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pypdf
import pytest
import redis as redis_lib

from tests.conftest import SECRET, _empty_tables, csrf_token, login, make_user
from tests.test_publishing import worker_env
from webapp import create_app
from webapp.auditkit.mockups import STATES, contents_rows, how_drawn
from webapp.tiktok.rules import DECLARATION_BRANDED, DECLARATION_DEFAULT

pytestmark = [pytest.mark.browser, pytest.mark.engine_independent]


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    """A redis-server of the module's own for the stage's throwaway app (started, then killed)."""
    from sandbox.runner import free_port

    server = shutil.which("redis-server")
    if not server:
        pytest.skip("no redis-server binary")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path_factory.mktemp("redis"),
    )
    client = redis_lib.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis_lib.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def built(database_url, redis_url, private_redis, tmp_path_factory, chromium):
    """Build the mockups through Admin → Audit Kit and a real worker; return what was seen."""
    tmp = tmp_path_factory.mktemp("mockups")
    redis_lib.Redis.from_url(redis_url).flushdb()
    settings = {
        "APP_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(tmp / "media"),
        "INSTANCE": str(tmp / "instance"),
        "AUDIT_KIT_REDIS_URL": private_redis,
        "PUBLIC_URL": "https://cadence.example.com",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }
    app = create_app(settings)
    _empty_tables(app.extensions["database"])
    database = app.extensions["database"]
    with app.app_context():
        database.connect(reuse_if_open=True)
        from webapp.models import AppSettings

        admin = make_user("admin@example.com", "admin", name="Ada Admin")
        names = AppSettings.load()
        names.app_name = "Loomly Studio"
        names.website_url = "https://studio.example.com"
        names.save()
        database.close()
    client = app.test_client()
    assert login(client, admin.email).status_code == 303
    before = client.get("/admin/audit-kit").get_data(as_text=True)
    missing_pdf = client.get("/admin/audit-kit/mockups.pdf")
    token = csrf_token(client, "/admin/audit-kit")
    queued = client.post(
        "/admin/audit-kit/mockups",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    env = worker_env(settings)
    env.update(INSTANCE=settings["INSTANCE"], AUDIT_KIT_REDIS_URL=private_redis)
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--burst", "--workers", "1"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    widgets = []
    try:
        while worker.poll() is None and time.monotonic() - started < 280:
            widgets.append(client.get("/admin/audit-kit/mockups").get_data(as_text=True))
            time.sleep(1)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        log = worker.communicate(timeout=30)[1].decode(errors="replace")
    seconds = time.monotonic() - started
    final = client.get("/admin/audit-kit/mockups").get_data(as_text=True)
    pdf = client.get("/admin/audit-kit/mockups.pdf")
    zipped = client.get("/admin/audit-kit/kit.zip").data
    stage_keys = redis_lib.Redis.from_url(private_redis).dbsize()
    return SimpleNamespace(
        before=before,
        missing_pdf=missing_pdf,
        queued=queued,
        widgets=widgets,
        final=final,
        pdf=pdf,
        zipped=zipped,
        seconds=seconds,
        log=log,
        tmp=tmp,
        stage_keys=stage_keys,
    )


def _text(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_the_admin_page_builds_the_pdf_in_a_job_with_progress(built):
    assert "No UX mockups PDF yet" in built.before
    assert built.missing_pdf.status_code == 303  # nothing to send yet: back to the page
    # The button's answer is the widget, polling itself while the job runs.
    assert 'id="mockups-build"' in built.queued and 'hx-trigger="load delay:1s"' in built.queued
    running = [w for w in built.widgets if "Building the UX mockups:" in w]
    steps = {m for w in running for m in re.findall(r"\[(\d+)/\d+\]", w)}
    assert len(steps) >= 3, built.widgets[-3:]  # the progress moved from state to state
    assert built.pdf.status_code == 200, built.log[-2000:]
    assert built.pdf.mimetype == "application/pdf"
    assert "✓ Built." in built.final and "hx-trigger" not in built.final  # stopped polling
    assert built.stage_keys == 0  # the stage emptied its Redis DB
    print(f"mockups built in {built.seconds:.0f} s, {len(built.pdf.data) / 1e6:.1f} MB")


def test_the_kit_zip_holds_the_built_pdf(built):
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(built.zipped))
    assert archive.read("audit-kit/ux-mockups.pdf") == built.pdf.data


def test_one_page_per_state_after_a_cover_and_contents(built):
    pages = _text(built.pdf.data)
    assert len(pages) == len(STATES) + 2
    assert "Direct Post UX mockups" in pages[0] and "Loomly Studio" in pages[0]
    assert "studio.example.com" in pages[0]
    for point, title, numbers in contents_rows():
        assert numbers and title in pages[1], point
        for number in numbers:  # each page of the point, by its number and title
            assert f"p. {number} {STATES[number - 3].title}" in pages[1], (point, number)
    # Point 4 (the declarations) leads to the pages that show each one.
    declaring = {n for p, _t, ns in contents_rows() if p == "4" for n in ns}
    shows = {
        i + 3
        for i, s in enumerate(STATES)
        if {DECLARATION_DEFAULT, DECLARATION_BRANDED} & set(s.strings)
    }
    assert shows <= declaring and len(shows) >= 3


@pytest.mark.parametrize("index", range(len(STATES)), ids=[s.key for s in STATES])
def test_each_state_page_has_its_wording_and_callouts(built, index):
    state = STATES[index]
    text = _text(built.pdf.data)[index + 2]
    assert state.title in text
    assert f"Guideline point {', '.join(state.points)}" in text
    for words in state.strings:
        assert " ".join(words.split()) in text, (state.key, words)
    # The side column ends on its own page (the note on how the page was drawn is its last line).
    assert " ".join(how_drawn(state).split()) in text, state.key
    # The callouts: numbered boxes over the picture, and the same numbers in the legend.
    picture, side = text.split("THE GUIDELINE", 1)
    legend = side.split("CALLOUTS", 1)[1].split("TIKTOK WORDING", 1)[0]
    numbers, at = [], 0
    while (at := legend.find(f" {len(numbers) + 1} ", at)) >= 0:  # 1, 2, 3… in order
        numbers.append(str(len(numbers) + 1))
    assert len(numbers) >= 2, (state.key, legend)
    assert re.findall(r"\b\d+\b", picture.split(state.title, 1)[1]) == numbers, state.key


def test_pdf_is_small_and_the_pages_are_pictures_not_blank(built):
    from PIL import Image, ImageStat

    assert len(built.pdf.data) <= 10 * 1024 * 1024
    path = built.tmp / "m.pdf"
    path.write_bytes(built.pdf.data)
    for number in (4, 10):  # the untouched composer; disclosure on with its tooltip
        prefix = built.tmp / f"page{number}"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "40",
                "-f",
                str(number),
                "-l",
                str(number),
                "-png",
                str(path),
                str(prefix),
            ],
            check=True,
            timeout=60,
        )
        [png] = Path(built.tmp).glob(f"page{number}*.png")
        image = Image.open(png).convert("L")
        dark = sum(image.histogram()[:200]) / (image.width * image.height)
        assert dark > 0.12, (number, dark)  # a picture covers much of the page
        assert ImageStat.Stat(image).stddev[0] > 40  # and it isn't one flat colour
