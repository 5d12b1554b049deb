"""Admin Console → Audit Kit: inputs, answers, guide, mockup PDF, readiness, zip and CLI."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from tests.conftest import csrf_token
from webapp.auditkit import answers, guide, readiness
from webapp.models import AuditKit, PostTarget

ROOT = Path(__file__).resolve().parent.parent

GOOD = {
    "full_name": "Ada Lovelace",
    "org_name": "Analytical Agency",
    "org_website": "https://agency.example.com",
    "app_id": "7300000000000000000",
    "org_description": "We run TikTok accounts for four local shops.",
    "customers": "4",
    "accounts_per_customer": "3",
    "videos_per_account_per_day": "10",
    "demo_url": "https://demo.agency.example.com",
    "demo_email": "reviewer@agency.example.com",
    "demo_password": "a long demo password",
}


def save(client, **changes):
    data = {**GOOD, **changes, "csrf_token": csrf_token(client, "/admin/audit-kit")}
    return client.post("/admin/audit-kit", data=data)


def test_inputs_are_saved_and_feed_the_answers(admin_client, db):
    assert save(admin_client).status_code == 303
    kit = AuditKit.load()
    assert kit.org_name == "Analytical Agency" and kit.daily_videos == 120
    assert kit.demo_password() == "a long demo password"
    assert "a long demo password" not in (kit.demo_password_enc or "")  # encrypted at rest
    page = admin_client.get("/admin/audit-kit").get_data(as_text=True)
    assert (
        "4 customers × 3 TikTok accounts per customer × 10 videos per account per day = 120" in page
    )
    assert "publicaly_available_post_id" in page and "publish_id" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customers", "-1", "Number must be between 1"),
        ("org_website", "not a url", ""),
        ("videos_per_account_per_day", "40", "Number must be between 1 and 15"),
        ("demo_email", "nobody", ""),
    ],
)
def test_bad_inputs_get_messages_and_nothing_is_saved(admin_client, db, field, value, message):
    assert save(admin_client).status_code == 303
    response = save(admin_client, **{field: value, "org_name": "Changed"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and 'class="field-error"' in page
    assert message in page
    assert value in page or field == "demo_email"  # what was typed is kept
    assert AuditKit.load().org_name == "Analytical Agency"


def test_members_cannot_open_the_audit_kit(member_client):
    assert member_client.get("/admin/audit-kit").status_code == 403


@pytest.mark.parametrize(
    ("customers", "accounts", "videos", "total"),
    [(4, 3, 10, "120"), (1, 1, 1, "1"), (250, 12, 15, "45,000")],
)
def test_usage_arithmetic(customers, accounts, videos, total):
    text = answers.usage_arithmetic(customers, accounts, videos)
    assert text.endswith(f"= {total} video{'s' if total != '1' else ''} a day")
    assert f"{customers} customer" in text and f"× {videos} video" in text


def test_stored_fields_are_read_from_the_models():
    listed = {(f.table, f.column) for f in answers.stored_fields()}
    assert ("post_target", "publish_id") in listed
    assert ("post_target", "publicaly_available_post_id") in listed
    assert ("account", "open_id") in listed
    marked = {
        (PostTarget._meta.table_name, f.name)
        for f in PostTarget._meta.sorted_fields
        if (f.help_text or "").startswith("TikTok: ")
    }
    assert marked <= listed


def test_edited_answers_are_kept_until_regenerated(admin_client, db):
    save(admin_client)
    token = csrf_token(admin_client, "/admin/audit-kit")
    admin_client.post(
        "/admin/audit-kit/answers", data={"answers": "My own words", "csrf_token": token}
    )
    assert "My own words" in admin_client.get("/admin/audit-kit").get_data(as_text=True)
    empty = admin_client.post(
        "/admin/audit-kit/answers", data={"answers": " ", "csrf_token": token}
    )
    assert empty.status_code == 303 and AuditKit.load().answers_edited == "My own words"
    admin_client.post("/admin/audit-kit/answers", data={"reset": "1", "csrf_token": token})
    assert AuditKit.load().answers_edited == ""


def test_cli_without_chromium_is_one_line(app, db, tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-chromium"))
    result = app.test_cli_runner().invoke(args=["audit-kit", "build", "--out", str(tmp_path / "k")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: no Chromium at {tmp_path / 'no-chromium'} (apt-get install chromium, or set "
        "CHROMIUM_PATH)"
    )
    assert "building the UX mockups" in result.output  # said before it started


def test_kit_zip_and_cli_hold_every_file(admin_client, app, db, tmp_path):
    save(admin_client)
    response = admin_client.get("/admin/audit-kit/kit.zip")
    names = set(zipfile.ZipFile(io.BytesIO(response.data)).namelist())
    # The mockups PDF is built by a job (tests/test_mockups.py); until then the zip says so.
    expected = {
        "answers.md",
        "demo-guide.md",
        "demo-guide.html",
        "ux-mockups-README.txt",
        "readiness.md",
    }
    assert names == {f"audit-kit/{n}" for n in expected}
    note = zipfile.ZipFile(io.BytesIO(response.data)).read("audit-kit/ux-mockups-README.txt")
    assert b"hasn't been built yet" in note
    result = app.test_cli_runner().invoke(
        args=["audit-kit", "build", "--no-mockups", "--out", str(tmp_path / "k")]
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "k").iterdir()} == expected
    text = (tmp_path / "k" / "demo-guide.md").read_text()
    assert text.count("\n1. ") == 1 and f"{len(guide.STEPS)}. " in text


def test_guide_labels_exist_in_the_real_templates():
    sources = "".join(p.read_text() for p in (ROOT / "templates").rglob("*.html"))
    sources += (ROOT / "sandbox" / "templates" / "authorize.html").read_text()
    sources += (ROOT / "webapp" / "tiktok" / "composer.py").read_text()
    for step in guide.STEPS:
        if step.label:
            assert step.label in sources, step


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_url_probes_never_reach_private_addresses_outside_demo_mode():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/privacy"
    try:
        _Recorder.hits.clear()
        assert "not a public one" in readiness.probe(url)
        assert "not a public one" in readiness.probe("http://localhost:9/x")
        assert readiness.probe("ftp://example.com/x") == "not an http(s) address"
        assert _Recorder.hits == []  # refused before any request left
        assert readiness.probe(url, allow_private=True) == ""
        assert _Recorder.hits == ["/privacy"]
    finally:
        server.shutdown()


def test_readiness_lists_problems_in_words(admin_client, db):
    page = admin_client.get("/admin/audit-kit").get_data(as_text=True)
    assert "TikTok client key and secret are set" in page
    assert "Redirect URI is https" in page
    assert "Privacy policy URL is set" in page
    assert "must be private" in page


def test_the_mockup_stage_takes_only_an_empty_redis_db(redis_url):
    import redis as redis_lib

    from webapp.auditkit.stage import MARKER, StageError, claim_redis, stage_redis_url

    assert stage_redis_url("redis://:pw@cache:6379/0") == "redis://:pw@cache:6379/1"
    assert stage_redis_url("redis://cache:6379") == "redis://cache:6379/1"
    assert stage_redis_url("redis://cache/15") == "redis://cache/14"
    assert stage_redis_url("redis://cache/0", "redis://other/3") == "redis://other/3"
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    client.set("someone:else", "1")
    with pytest.raises(StageError, match="holds other data; set AUDIT_KIT_REDIS_URL"):
        claim_redis(redis_url)
    assert client.get("someone:else") == b"1"  # untouched, and the claim was let go
    client.delete("someone:else")
    client.set(MARKER, "1")
    client.set("cadence:creator_info:1", "left by an earlier build")
    claimed = claim_redis(redis_url)
    assert not claimed.exists("cadence:creator_info:1")  # an earlier stage's leftovers go
    with pytest.raises(StageError, match="another mockup build is using"):
        claim_redis(redis_url)
    client.flushdb()
