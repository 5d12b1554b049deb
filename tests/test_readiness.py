"""The readiness checklist (Admin Console → Audit Kit) against real servers.

A correctly set up instance passes its own check: the app itself is served over real TLS
(a throwaway CA, trusted through the operator setting URL_CHECK_CA_FILE) under a made-up public
name. The OS resolver is replaced so that name resolves to a public address that leads to
127.0.0.1, as tests/test_netguard.py does: netguard's refusal of private addresses runs
unchanged. The demo account's privacy comes from the TikTok sandbox over HTTP.
"""

from __future__ import annotations

import html
import re
import socket
import ssl
import threading

import pytest
from werkzeug.serving import make_server

from tests import accounts_flow as flow
from tests.test_mail import make_certificates
from webapp.models import AppSettings, AuditKit, TikTokService

PUBLIC_NAME, PUBLIC_ADDRESS = "cadence-review.example", "1.2.3.4"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Write a throwaway CA and a certificate for PUBLIC_NAME; return their paths."""
    return make_certificates(tmp_path_factory.mktemp("readiness-tls"), PUBLIC_NAME)


@pytest.fixture
def settings(settings, certificates):
    """Trust the throwaway CA for the readiness probes, as an operator with a private CA would."""
    return {**settings, "URL_CHECK_CA_FILE": str(certificates["ca"])}


@pytest.fixture
def public_name(monkeypatch):
    """Make PUBLIC_NAME resolve to a public address whose "network" route is 127.0.0.1."""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == PUBLIC_NAME:  # what the guard checks: a public address
            local = real("127.0.0.1", port, *args, **kwargs)
            return [(*info[:4], (PUBLIC_ADDRESS, info[4][1])) for info in local]
        if host == PUBLIC_ADDRESS:  # where the connection goes
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return PUBLIC_NAME


@pytest.fixture
def https_instance(app, certificates, public_name):
    """Serve the app over real TLS; set PUBLIC_URL to its https address and return it."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificates["cert"], certificates["key"])
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"https://{public_name}:{server.server_port}"
    app.config["PUBLIC_URL"] = base
    yield base
    server.shutdown()
    thread.join(5)


def checklist(client) -> list[tuple[str, str]]:
    """Return (state, text) of every line of the readiness checklist on the Audit Kit page."""
    page = client.get("/admin/audit-kit").get_data(as_text=True)
    section = page.split('id="readiness"', 1)[1].split("</ul>", 1)[0]
    return [
        # Each line starts with its mark (✓ ✗ !), then the label and the detail.
        (state, " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()[1:]))
        for state, text in re.findall(r'<li class="check-(\w+)">(.*?)</li>', section, re.S)
    ]


def set_up_correctly(base: str, demo_email: str) -> None:
    settings = AppSettings.load()
    settings.public_pages = True
    settings.website_url, settings.privacy_url, settings.terms_url = (
        f"{base}/about",
        f"{base}/privacy",
        f"{base}/terms",
    )
    settings.save()
    service = TikTokService.load()
    service.share_type = "direct_post"
    service.media_url_prefix = f"{base}/pull/"
    service.audited = False
    service.save()
    kit = AuditKit.load()
    kit.demo_email = demo_email
    kit.save()


def test_a_correctly_set_up_https_instance_passes_its_own_readiness_check(
    admin_client, admin, tiktok, https_instance
):
    set_up_correctly(https_instance, admin.email)
    # The demo user connects the private demo account (the sandbox's kenji.private).
    assert flow.connect(admin_client, "kenji.private").status_code == 200
    lines = checklist(admin_client)
    assert [text for state, text in lines if state != "ok"] == []
    texts = " | ".join(text for _, text in lines)
    assert (
        f"Redirect URI is https and has no “tiktok” in it ({https_instance}/accounts/callback)"
        in (texts)
    )
    for page in ("about", "privacy", "terms"):
        assert f"answers ({https_instance}/{page})" in texts
    assert "The demo TikTok account is private (@kenji.private)" in texts
    assert "marked as not yet audited" in texts
    assert len(lines) == 9


def test_the_same_instance_is_refused_when_its_certificate_cant_be_verified(
    admin_client, admin, tiktok, https_instance, app
):
    set_up_correctly(https_instance, admin.email)
    app.config["URL_CHECK_CA_FILE"] = ""  # the bundled list doesn't know the throwaway CA
    lines = {text.split(" (")[0]: (state, text) for state, text in checklist(admin_client)}
    for label in ("Public website answers", "Privacy policy answers", "Terms of service answers"):
        assert lines[label][0] == "problem"
        assert "no answer (SSLError)" in lines[label][1]


def test_the_demo_account_check_says_what_to_do_in_each_case(admin_client, admin, tiktok, db):
    kit = AuditKit.load()
    kit.demo_email = "reviewer@example.com"
    kit.save()

    def demo_lines():
        return [
            (s, t)
            for s, t in checklist(admin_client)
            if t.startswith("The demo TikTok account is private")
        ]

    # Nobody signs in with the demo email yet.
    [(state, text)] = demo_lines()
    assert state == "problem" and "No user signs in as reviewer@example.com" in text
    kit.demo_email = admin.email
    kit.save()
    # The demo user exists but has connected nothing.
    [(state, text)] = demo_lines()
    assert state == "warning" and "No TikTok account is connected yet" in text
    # TikTok doesn't answer creator_info: said so, not taken for private or public.
    assert flow.connect(admin_client, "kenji.private").status_code == 200
    tiktok.control(
        "faults", {"rates": {"error_5xx": 1.0}, "paths": ["/v2/post/publish/creator_info/"]}
    )
    [(state, text)] = demo_lines()
    assert state == "warning" and "TikTok couldn't be asked about @kenji.private" in text
    tiktok.control("faults", {"rates": {}, "paths": []})
    [(state, text)] = demo_lines()
    assert state == "ok" and "no “Everyone”" in text
    # A public account among the demo user's: a problem, with what to change in TikTok.
    assert flow.connect(admin_client, "maya.rivers").status_code == 200
    states = dict((t.split("(")[1].split(")")[0], (s, t)) for s, t in demo_lines())
    assert states["@kenji.private"][0] == "ok"
    state, text = states["@maya.rivers"]
    assert state == "problem" and "Set it to private in the TikTok app" in text


def test_the_audited_mark_is_fine_off_and_a_warning_on(admin_client, db):
    [(state, text)] = [(s, t) for s, t in checklist(admin_client) if "audited" in t]
    assert state == "ok" and "must be private" in text and "“Only me”" in text
    service = TikTokService.load()
    service.audited = True
    service.save()
    [(state, text)] = [(s, t) for s, t in checklist(admin_client) if "audited" in t]
    assert state == "warning"
    assert "only if TikTok has approved this app's Direct Post audit" in text
