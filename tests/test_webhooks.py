"""The TikTok webhook endpoint: signatures, stale timestamps, redeliveries, removed access."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests import accounts_flow as flow
from tests.test_jobs import run_worker_burst
from webapp.models import Account, Notification, WebhookEvent

SECRET = "sbx_demo_client_secret"


def signed(body: str, *, secret: str = SECRET, at: int | None = None) -> dict:
    t = int(time.time()) if at is None else at
    s = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"TikTok-Signature": f"t={t},s={s}", "Content-Type": "application/json"}


def event_body(event: str = "authorization.removed", open_id: str = "sbx-open-maya") -> str:
    return json.dumps(
        {
            "client_key": "sbx_demo_client_key",
            "event": event,
            "create_time": int(time.time()),
            "user_openid": open_id,
            "content": json.dumps({"reason": 1}),
        }
    )


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "missing or malformed"),
        ({"TikTok-Signature": "t=abc,s=00"}, "missing or malformed"),
        (None, "bad signature"),
        ("stale", "stale timestamp"),
    ],
)
def test_unsigned_or_forged_or_stale_deliveries_are_refused(client, tiktok, headers, why):
    body = event_body()
    if headers is None:
        headers = signed(body, secret="not-the-secret")
    elif headers == "stale":
        headers = signed(body, at=int(time.time()) - 301)
    reply = client.post("/webhooks/tiktok", data=body, headers=headers)
    assert reply.status_code == 401
    assert why in reply.get_json()["error"]
    assert WebhookEvent.select().count() == 0


def test_near_misses_are_refused_and_odd_bytes_are_not_a_crash(client, tiktok):
    body = event_body()
    good = signed(body)["TikTok-Signature"]
    t, s = good.split(",")
    flipped = "0" if s[-1] != "0" else "1"
    flipped_first = "0" if s[2] != "0" else "1"  # its own: s[2] may equal `flipped` (1 in 16)
    for header in (
        f"{t},{s[:-1]}{flipped}",  # last character differs
        f"{t},s={flipped_first}{s[3:]}",  # first character differs
        f"{t},{s}00",  # longer
        f"{t},s=é{s[3:]}",  # not ASCII
        f"t={int(time.time()) + 301},{s}",  # from the future
    ):
        reply = client.post(
            "/webhooks/tiktok",
            data=body,
            headers={"TikTok-Signature": header, "Content-Type": "application/json"},
        )
        assert reply.status_code == 401, header
    assert WebhookEvent.select().count() == 0
    recent = signed(body, at=int(time.time()) - 290)  # inside the five minutes
    assert client.post("/webhooks/tiktok", data=body, headers=recent).status_code == 200


def test_a_signed_event_is_recorded_once_and_answered_at_once(client, tiktok, app):
    body = event_body()
    first = client.post("/webhooks/tiktok", data=body, headers=signed(body))
    assert first.status_code == 200 and first.get_json() == {"ok": True}
    again = client.post("/webhooks/tiktok", data=body, headers=signed(body))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert WebhookEvent.select().count() == 1
    import jobs

    assert jobs.queue(app.extensions["redis"]).count == 1


def test_not_json_is_400(client, tiktok):
    reply = client.post("/webhooks/tiktok", data="nope", headers=signed("nope"))
    assert reply.status_code == 400


def test_authorization_removed_marks_the_account_through_the_worker(
    admin_client, client, tiktok, settings
):
    flow.connect(admin_client)
    body = event_body(open_id=Account.get().open_id)
    assert client.post("/webhooks/tiktok", data=body, headers=signed(body)).status_code == 200
    assert run_worker_burst(settings).returncode == 0
    account = Account.get()
    assert account.status == "reconnect_needed"
    assert "Access was removed in TikTok" in account.status_reason
    assert WebhookEvent.get().handled_at is not None
    assert Notification.select().count() == 1
    page = admin_client.get("/accounts/").get_data(as_text=True)
    assert "Reconnect needed" in page and "Access was removed in TikTok" in page


def test_the_sandbox_webhook_reaches_the_app_end_to_end(
    admin_client, tiktok, live_server, settings
):
    """The sandbox signs and sends; our endpoint verifies it over real HTTP."""
    from sandbox.runner import SandboxProcess

    flow.connect(admin_client)
    open_id = Account.get().open_id
    with SandboxProcess(env={"SANDBOX_WEBHOOK_URL": f"{live_server}/webhooks/tiktok"}) as sender:
        sender.control(f"deauthorize/{open_id}", {})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and WebhookEvent.select().count() == 0:
            time.sleep(0.1)
    assert WebhookEvent.get().event == "authorization.removed"
