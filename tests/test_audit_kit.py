"""Admin Console → Audit Kit: inputs, answers, guide, mockup PDF, readiness, zip and CLI."""

from __future__ import annotations

import html
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
    sources += (ROOT / "webapp" / "tiktok" / "rules.py").read_text()
    for step in guide.STEPS:
        if step.label:
            assert step.label in sources, step


@pytest.mark.parametrize("audited", [False, True])
def test_guide_variants_share_one_list_and_say_which_they_are(audited):
    from webapp.tiktok import rules

    chosen = guide.steps(audited)
    assert set(chosen) <= set(guide.ALL_STEPS)
    assert all(s.only_when in ("", "audited" if audited else "unaudited") for s in chosen)
    text = guide.markdown(audited)
    assert guide.variant_note(audited) in text
    assert guide.variant_note(not audited) not in text
    # CSG order, points 1 → 5: connect (1a) → caption (2a) → settings (2b, 2c) → disclosure and
    # declaration (3, 4) → video preview (5a) → post (5c–5e); every hover names its tooltip,
    # TikTok's wording taken from rules.py.
    points = [s.point.split(",")[0] for s in chosen if s.point]
    assert points[:3] == ["1a", "2a", "2b"] and points[-1] == "5e"
    assert [p[0] for p in points] == sorted(p[0] for p in points), points
    hovers = {s.label: s.tooltip for s in chosen if s.role == "hover"}
    assert hovers["Post now"] == rules.NEED_DISCLOSURE_CHOICE
    assert hovers["Only me"] == rules.BRANDED_NOT_PRIVATE
    assert hovers["Branded content"] == rules.BRANDED_DISABLED_BY_PRIVATE
    privacy = [s.label for s in chosen if s.role == "radio"]
    # A visibility other than "Only me" first; unaudited, the post goes out "Only me".
    assert privacy[0] == "Friends"
    assert privacy[-1] == ("Friends" if audited else "Only me")
    assert "Cadence" not in guide.CAPTION and "#" not in guide.CAPTION


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


# --- answers wording: a service offered to customers, never an internal upload tool -------------

# The phrases the issue found, and the CSG's own "not acceptable" example.
NOT_ACCEPTABLE = [
    "a utility tool to help upload contents to the account(s) you or your team manages",
    "so its team can prepare TikTok posts for the TikTok accounts it manages",
    "Cadence is self-hosted by the organization for its own team",
    "For internal use only.",
    "We built it for personal use.",
    "We post to our own TikTok accounts with it.",
    "It publishes to accounts managed by our team.",
    "the Accounts   which WE manage",
    "An uploading tool for TikTok.",
    "A tool for uploading videos.",
    "an in-house app",
]


@pytest.mark.parametrize("text", NOT_ACCEPTABLE)
def test_wording_warnings_catch_each_not_acceptable_phrase(text):
    warnings = answers.wording_warnings(text)
    assert warnings, text
    assert all(w.phrase.lower() in " ".join(text.lower().split()) for w in warnings)
    assert all("not acceptable" in w.reason for w in warnings)


@pytest.mark.parametrize(
    "text",
    [
        "Customers connect their own TikTok accounts and manage their content in one place.",
        "Our support team answers within a day.",
        "Brands schedule and publish posts; agencies' clients see the status TikTok reports.",
    ],
)
def test_wording_warnings_leave_a_service_for_customers_alone(text):
    assert answers.wording_warnings(text) == []


def answers_on_page(client) -> str:
    page = client.get("/admin/audit-kit").get_data(as_text=True)
    raw = page.split('<textarea id="answers"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    return html.unescape(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"instance_public": "y"},
        {"org_name": "Solo Creator Studio", "customers": "1", "accounts_per_customer": "1"},
        {"org_name": "Big Agency", "customers": "250", "instance_public": "y"},
    ],
    ids=["private", "public", "small", "large-public"],
)
def test_generated_answers_describe_a_service_offered_to_customers(admin_client, db, changes):
    assert save(admin_client, **changes).status_code == 303
    text = answers_on_page(admin_client)
    flat = " ".join(text.split())
    assert "create, schedule, publish and manage their TikTok content in one place" in flat
    assert "brands, creators" in flat
    assert answers.wording_warnings(text) == []
    lowered = " ".join(text.lower().split())
    for phrase in (
        "its team",
        "accounts it manages",
        "own team",
        "utility",
        "internal",
        "upload tool",
    ):
        assert phrase not in lowered, phrase
    # The arithmetic and the stored fields are still there.
    assert "per account per day =" in text and "`status/fetch publicaly_available_post_id`" in text
    page = admin_client.get("/admin/audit-kit").get_data(as_text=True)
    assert "No wording that TikTok" in page and "has-warnings" not in page


def test_the_default_about_page_reads_as_a_service_for_customers(app, db):
    from webapp.models import AppSettings
    from webapp.public.texts import default_texts

    texts = default_texts(AppSettings.load())
    for name, text in texts.items():
        assert answers.wording_warnings(text) == [], name
    assert "create, schedule, publish and manage" in " ".join(texts["about"].split())


def test_the_editor_warns_live_and_on_save_without_blocking(admin_client, db):
    save(admin_client)
    token = csrf_token(admin_client, "/admin/audit-kit")
    typed = (
        "Goal: a utility tool to help upload contents to the account(s) you or your team manages."
    )
    live = admin_client.post(
        "/admin/audit-kit/answers/check",
        data={"answers": typed},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    fragment = live.get_data(as_text=True)
    assert live.status_code == 200
    assert fragment.lstrip().startswith('<aside id="answers-warnings"')
    assert "<textarea" not in fragment and "<html" not in fragment  # only the warnings swap
    assert "account(s) you or your team manages" in html.unescape(fragment)
    clean = admin_client.post(
        "/admin/audit-kit/answers/check",
        data={"answers": "Brands schedule their TikTok posts."},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    ).get_data(as_text=True)
    assert "No wording that TikTok" in clean and "has-warnings" not in clean
    # Saving still works, and the page shows the warnings beside the saved text.
    saved = admin_client.post(
        "/admin/audit-kit/answers", data={"answers": typed, "csrf_token": token}
    )
    assert saved.status_code == 303
    assert AuditKit.load().answers_edited == typed
    page = html.unescape(admin_client.get("/admin/audit-kit").get_data(as_text=True))
    assert "3 phrases are marked beside the text" in page
    aside = page.split('id="answers-warnings"', 1)[1].split("</aside>", 1)[0]
    assert "account(s) you or your team manages" in aside and "utility" in aside
    # The textarea asks for live checks of only the warnings element, newest request wins.
    assert 'hx-target="#answers-warnings"' in page and 'hx-sync="this:replace"' in page


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


# --- Item 7 of issue 17: the estimate starts from the real counts ------------------------------


def _team_usage():
    """Three workspaces: A with two connected accounts (and a disconnected one), B with one
    waiting to be reconnected, C with a disconnected one only; posts of every kind and age."""
    import datetime as dt

    from tests.conftest import make_user
    from webapp.models import Account, Post, utcnow
    from webapp.workspaces.members import create_workspace

    owner = make_user("counts@example.com", name="Cora Counts")
    accounts = {}
    for name, statuses in (
        ("A", ["connected", "connected", "disconnected"]),
        ("B", ["reconnect_needed"]),
        ("C", ["disconnected"]),
    ):
        workspace = create_workspace(f"Client {name}", owner)
        accounts[name] = [
            Account.create(workspace=workspace, owner=owner, open_id=f"{name}{n}", status=status)
            for n, status in enumerate(statuses)
        ]
    now = utcnow()

    def post(account, status, days_ago):
        made = Post.create(
            workspace=account.workspace,
            author=owner,
            status=status,
            created_at=now - dt.timedelta(days=days_ago),
        )
        PostTarget.create(post=made, account=account, status=status)

    a1, a2, gone = accounts["A"]
    for days in (1, 5, 12, 20, 29):
        post(a1, "published", days)
    post(a2, "scheduled", 2)
    post(a2, "scheduled", 3)
    post(a2, "failed", 3)  # not posted
    post(a1, "draft", 1)  # not posted
    post(a1, "published", 31)  # before the window
    post(gone, "published", 1)  # an account no longer connected
    post(accounts["B"][0], "published", 10)
    return accounts


def test_usage_counts_workspaces_accounts_and_recent_posts(db):
    from webapp.auditkit import usage

    _team_usage()
    measured = usage.measure()
    assert (measured.customers, measured.accounts, measured.posts) == (2, 3, 8)
    assert measured.accounts_per_customer == 2  # 3 accounts / 2 workspaces, rounded up
    assert round(measured.videos_per_day, 3) == round(8 / 3 / 30, 3)
    assert measured.fields() == {
        "customers": 2,
        "accounts_per_customer": 2,
        "videos_per_account_per_day": 1,  # 0.09 a day, rounded up: the form takes 1 to 15
    }
    busy = usage.Usage(customers=1, accounts=1, posts=30 * 40)
    assert busy.videos_per_account_per_day == usage.MAX_VIDEOS_PER_DAY
    assert not usage.Usage(customers=0, accounts=0, posts=0).offered


def _field_value(page: str, name: str) -> str | None:
    import re

    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def test_use_these_numbers_fills_the_estimate_without_saving(admin_client, db):
    assert save(admin_client).status_code == 303  # 4 × 3 × 10, as typed before
    _team_usage()
    page = admin_client.get("/admin/audit-kit").get_data(as_text=True)
    assert "2 workspaces with connected TikTok accounts" in page
    assert "3 connected accounts in them (on average 2 per workspace" in page
    assert "8 published or scheduled posts per account made in the last 30 days" in page
    assert 'href="/admin/audit-kit?use=measured#inputs">Use these numbers</a>' in page
    assert _field_value(page, "customers") == "4"

    filled = admin_client.get("/admin/audit-kit?use=measured")
    assert filled.status_code == 200
    page = filled.get_data(as_text=True)
    values = {n: _field_value(page, n) for n in ("customers", "accounts_per_customer")}
    assert values == {"customers": "2", "accounts_per_customer": "2"}
    assert _field_value(page, "videos_per_account_per_day") == "1"
    assert _field_value(page, "org_name") == "Analytical Agency"  # the rest as saved
    assert "nothing is saved until you press Save" in page
    kit = AuditKit.load()
    assert (kit.customers, kit.accounts_per_customer, kit.videos_per_account_per_day) == (4, 3, 10)
    # The applicant changes one and saves: their numbers are kept.
    reply = save(
        admin_client, customers="2", accounts_per_customer="2", videos_per_account_per_day="5"
    )
    assert reply.status_code == 303
    assert AuditKit.load().daily_videos == 20


def test_without_connected_accounts_there_is_nothing_to_use(admin_client, db):
    page = admin_client.get("/admin/audit-kit?use=measured").get_data(as_text=True)
    assert "no real counts to start from" in page
    assert "Use these numbers" not in page
    assert _field_value(page, "customers") in (None, "")
