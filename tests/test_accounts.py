"""Connecting TikTok accounts end to end: our app ↔ the sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import pytest
import requests

from tests import accounts_flow as flow
from tests.conftest import home, login, make_user, post_form
from webapp.models import Account, Notification, Post, PostTarget, utcnow
from webapp.tiktok.tokens import client_for, refresh, valid_access_token


def wait_message(client, since: float) -> str:
    """Poll like the first tab does and return the flashed message shown after the reload."""
    reply = client.get(
        "/accounts/connect/wait", query_string={"since": since}, headers={"HX-Request": "true"}
    )
    assert reply.status_code == 200 and reply.headers["HX-Redirect"].endswith("/accounts/")
    return client.get("/accounts/").get_data(as_text=True)


def test_empty_state_points_admins_to_services_when_unconfigured(admin_client):
    page = admin_client.get("/accounts/").get_data(as_text=True)
    assert "No TikTok accounts connected yet" in page
    assert "Admin Console → Services" in page
    dialog = admin_client.get("/accounts/add", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "TikTok isn't set up yet" in dialog


def test_connect_saves_the_account_and_the_first_tab_updates(admin_client, tiktok, db):
    since = time.time()
    dialog = admin_client.get("/accounts/add", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert (
        "<dialog open" in dialog
        and 'target="_blank"' in dialog
        and 'hx-trigger="every 2s"' in dialog
    )
    assert (
        admin_client.get(
            "/accounts/connect/wait", query_string={"since": since}, headers={"HX-Request": "true"}
        ).status_code
        == 204
    )
    authorize = flow.start(admin_client)
    assert authorize.startswith(tiktok.url + "/v2/auth/authorize/?client_key=sbx_demo_client_key")
    assert "scope=user.info.basic%2Cuser.info.profile%2Cvideo.publish%2Cvideo.upload" in authorize
    assert "redirect_uri=https%3A%2F%2Fcadence.example.com%2Faccounts%2Fcallback" in authorize
    done = flow.back(admin_client, flow.consent(authorize))
    assert done.status_code == 200
    assert "@maya.rivers is connected." in done.get_data(as_text=True)
    assert "You can close this tab" in done.get_data(as_text=True)
    account = Account.get()
    assert (account.open_id, account.username, account.display_name) == (
        "sbx-open-maya",
        "maya.rivers",
        "Maya Rivers",
    )
    assert account.status == "connected"
    lifetime = account.access_token_expires_at - utcnow()
    assert dt.timedelta(seconds=7190) < lifetime <= dt.timedelta(seconds=7200)
    raw = db.execute_sql("SELECT access_token_enc, refresh_token_enc FROM account").fetchone()
    assert (
        account.access_token().startswith("act.") and "act." not in raw[0] and "rft." not in raw[1]
    )
    page = wait_message(admin_client, since)
    assert "@maya.rivers is connected." in page
    assert "Maya Rivers" in page and "@maya.rivers" in page and ">Connected<" in page


def test_denied_consent_shows_a_message_and_saves_nothing(admin_client, tiktok):
    since = time.time()
    done = flow.back(admin_client, flow.consent(flow.start(admin_client), decision="cancel"))
    assert "You cancelled in TikTok, so no account was connected." in done.get_data(as_text=True)
    assert "You cancelled in TikTok" in wait_message(admin_client, since)
    assert Account.select().count() == 0


def test_tampered_or_replayed_state_is_refused(admin_client, tiktok):
    callback = flow.consent(flow.start(admin_client))
    tampered = flow.back(admin_client, re.sub(r"state=[^&]+", "state=forged", callback))
    assert tampered.status_code == 400
    assert "Nothing was saved" in tampered.get_data(as_text=True)
    assert Account.select().count() == 0
    assert flow.back(admin_client, callback).status_code == 200
    replay = flow.back(admin_client, callback)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    assert Account.select().count() == 1


def test_state_is_bound_to_the_user_who_started(app, admin_client, tiktok):
    callback = flow.consent(flow.start(admin_client))
    make_user("other@example.com")
    other = app.test_client()
    login(other, "other@example.com")
    assert flow.back(other, callback).status_code == 400
    assert Account.select().count() == 0


def test_a_replayed_code_is_refused_by_tiktok_with_a_clear_message(admin_client, tiktok):
    first = flow.consent(flow.start(admin_client))
    code = parse_code(first)
    assert flow.back(admin_client, first).status_code == 200
    second = flow.consent(flow.start(admin_client))
    replay = flow.back(admin_client, re.sub(r"code=[^&]+", f"code={code}", second))
    assert replay.status_code == 400
    assert "TikTok says this sign-in was already used or has expired" in replay.get_data(
        as_text=True
    )


def parse_code(url: str) -> str:
    return re.search(r"code=([^&]+)", url).group(1)


def test_missing_scopes_are_saved_and_explained(admin_client, tiktok):
    done = flow.connect(
        admin_client, ticked=["user.info.basic", "user.info.profile", "video.upload"]
    )
    assert "some permissions were not granted" in done.get_data(as_text=True)
    account = Account.get()
    assert account.scope_set == {"user.info.basic", "user.info.profile", "video.upload"}
    page = admin_client.get("/accounts/").get_data(as_text=True)
    assert "Some permissions were not granted" in page
    assert "Cadence can&#39;t post directly to this account." in page
    assert ">Reconnect</a>" in page


def test_reconnect_keeps_the_account_and_refuses_another_user(admin_client, tiktok, db):
    flow.connect(admin_client, ticked=["user.info.basic", "video.publish"])
    account = Account.get()
    post = Post.create(
        workspace=home(account.owner), author=account.owner, caption="kept", status="published"
    )
    PostTarget.create(post=post, account=account, status="published")
    wrong = flow.connect(admin_client, creator="lena.quiet", reconnect=account.id)
    assert wrong.status_code == 400
    assert "but Reconnect was for" in wrong.get_data(as_text=True)
    assert Account.select().count() == 1
    right = flow.connect(admin_client, reconnect=account.id)
    assert "is reconnected" in right.get_data(as_text=True)
    again = Account.get()
    assert again.id == account.id and "video.upload" in again.scope_set
    assert PostTarget.get().account_id == account.id


def test_an_account_connected_by_someone_else_is_refused(app, admin_client, tiktok):
    flow.connect(admin_client)
    make_user("second@example.com")
    other = app.test_client()
    login(other, "second@example.com")
    refused = flow.connect(other)
    assert refused.status_code == 409
    assert "already connected in another workspace" in refused.get_data(as_text=True)


def test_disconnect_asks_then_revokes_and_cancels_scheduled_posts(admin_client, tiktok, db):
    flow.connect(admin_client)
    account = Account.get()
    token = account.access_token()
    post = Post.create(
        workspace=home(account.owner),
        author=account.owner,
        caption="Launch teaser",
        status="scheduled",
        scheduled_at=utcnow() + dt.timedelta(hours=2),
    )
    PostTarget.create(post=post, account=account, status="scheduled")
    confirm = admin_client.get(f"/accounts/{account.id}/disconnect").get_data(as_text=True)
    assert "Disconnect @maya.rivers?" in confirm and "Launch teaser" in confirm
    done = post_form(admin_client, f"/accounts/{account.id}/disconnect", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "@maya.rivers is disconnected" in text and "“Launch teaser”" in text
    account = Account.get()
    assert account.status == "disconnected" and account.access_token_enc is None
    assert Post.get().status == "cancelled" and PostTarget.get().status == "cancelled"
    info = requests.get(
        f"{tiktok.url}/v2/user/info/?fields=open_id",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert info.json()["error"]["code"] == "access_token_invalid"  # revoked at TikTok


def test_disconnect_cancels_only_what_is_still_scheduled_and_drops_its_jobs(
    app, admin_client, tiktok, db
):
    """A run that starts while TikTok takes its time to revoke keeps going (issue 16)."""
    from rq.exceptions import NoSuchJobError

    from webapp import publishing, tasks
    from webapp.db import connected

    flow.connect(admin_client)
    account = Account.get()
    redis = app.extensions["redis"]
    targets = []
    for caption in ("Races the revoke", "Still waiting"):
        post = Post.create(
            workspace=home(account.owner),
            author=account.owner,
            caption=caption,
            status="scheduled",
            scheduled_at=utcnow() + dt.timedelta(hours=2),
        )
        targets.append(PostTarget.create(post=post, account=account, status="scheduled"))
        publishing.schedule(post, redis)
    racing, waiting = targets
    tiktok.control(
        "faults", {"queue": [{"path": "/v2/oauth/revoke/", "kind": "slow", "seconds": 1.5}]}
    )

    def start_the_run():
        time.sleep(0.5)  # while the revoke is on its way to TikTok
        with app.app_context(), connected():
            PostTarget.update(status="publishing", phase="checking").where(
                PostTarget.id == racing.id
            ).execute()

    thread = threading.Thread(target=start_the_run)
    thread.start()
    done = post_form(admin_client, f"/accounts/{account.id}/disconnect", follow_redirects=True)
    thread.join()
    assert "is disconnected" in done.get_data(as_text=True)
    assert PostTarget.get_by_id(racing.id).status == "publishing"
    assert PostTarget.get_by_id(waiting.id).status == "cancelled"
    assert Post.get_by_id(waiting.post_id).status == "cancelled"
    with pytest.raises(NoSuchJobError):
        tasks.fetch(tasks.publish_job_id(waiting), redis)


def test_other_users_accounts_are_404(app, admin_client, tiktok):
    flow.connect(admin_client)
    account = Account.get()
    make_user("third@example.com")
    other = app.test_client()
    login(other, "third@example.com")
    assert other.get(f"/accounts/{account.id}/disconnect").status_code == 404
    assert (
        other.get("/accounts/connect/tiktok", query_string={"reconnect": account.id}).status_code
        == 404
    )


def _client(app):
    from webapp.models import TikTokService

    return client_for(TikTokService.load(), app.config)


def test_refresh_rotates_and_the_old_refresh_token_dies(app, admin_client, tiktok):
    flow.connect(admin_client)
    account = Account.get()
    old_refresh = account.refresh_token()
    new_access = refresh(account.id, client=_client(app), redis=app.extensions["redis"], force=True)
    fresh = Account.get()
    assert new_access == fresh.access_token() and fresh.refresh_token() != old_refresh
    dead = requests.post(
        f"{tiktok.url}/v2/oauth/token/",
        timeout=10,
        data={
            "client_key": "sbx_demo_client_key",
            "client_secret": "sbx_demo_client_secret",
            "grant_type": "refresh_token",
            "refresh_token": old_refresh,
        },
    )
    assert dead.json()["error"] == "invalid_grant"


def test_two_concurrent_refreshes_send_one_refresh_call(app, admin_client, tiktok):
    flow.connect(admin_client)
    account = Account.get()
    account.access_token_expires_at = utcnow() - dt.timedelta(seconds=1)
    account.save()
    results, errors = [], []
    database = app.extensions["database"]

    def worker():
        try:
            with database.connection_context():
                results.append(
                    valid_access_token(
                        account.id, client=_client(app), redis=app.extensions["redis"]
                    )
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(set(results)) == 1
    calls = [
        c for c in tiktok.control("state")["token_calls"] if c["grant_type"] == "refresh_token"
    ]
    assert len(calls) == 1


def test_invalid_grant_marks_reconnect_needed_and_notifies(app, admin_client, tiktok, db):
    flow.connect(admin_client)
    account = Account.get()
    tiktok.control(f"deauthorize/{account.open_id}", {})
    account.access_token_expires_at = utcnow()
    account.save()
    from webapp.tiktok.tokens import ReconnectNeeded

    try:
        valid_access_token(account.id, client=_client(app), redis=app.extensions["redis"])
        raise AssertionError("expected ReconnectNeeded")
    except ReconnectNeeded:
        pass
    account = Account.get()
    assert account.status == "reconnect_needed" and account.access_token_enc is None
    assert Notification.select().where(Notification.kind == "account_reconnect").count() == 1
    page = admin_client.get("/accounts/").get_data(as_text=True)
    assert "Reconnect needed" in page and "TikTok no longer accepts this account" in page


def test_check_now_reports_cant_post(app, admin_client, tiktok):
    flow.connect(admin_client, creator="omar.paused")
    account = Account.get()
    done = post_form(
        admin_client,
        f"/accounts/{account.id}/check",
        token_from="/accounts/",
        follow_redirects=True,
    )
    assert "has posted too much today" in done.get_data(as_text=True)


def test_no_token_or_secret_reaches_logs_or_pages(app, admin_client, tiktok, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    pages = [flow.connect(admin_client).get_data(as_text=True)]
    account = Account.get()
    refresh(account.id, client=_client(app), redis=app.extensions["redis"], force=True)
    pages.append(admin_client.get("/accounts/").get_data(as_text=True))
    pages.append(admin_client.get("/admin/services").get_data(as_text=True))
    account = Account.get()
    secrets = [account.access_token(), account.refresh_token(), "sbx_demo_client_secret"]
    haystack = "\n".join(pages) + caplog.text + repr(_client(app))
    for secret in secrets:
        assert secret not in haystack
    stored = json.dumps(
        [str(v) for v in app.extensions["redis"].mget(app.extensions["redis"].keys("*"))]
    )
    for secret in secrets:
        assert secret not in stored


def test_notifications_show_in_the_menu_and_can_be_marked_read(app, admin_client, tiktok, db):
    flow.connect(admin_client)
    account = Account.get()
    from webapp.tiktok.tokens import mark_reconnect_needed

    mark_reconnect_needed(account, "Testing the notice.")
    menu = admin_client.get("/").get_data(as_text=True)
    assert "Notifications (1)" in menu
    page = admin_client.get("/notifications/").get_data(as_text=True)
    assert "@maya.rivers: Testing the notice." in page
    done = post_form(
        admin_client, "/notifications/read", token_from="/notifications/", follow_redirects=True
    )
    assert "Marked 1 notification as read." in done.get_data(as_text=True)
    assert "Notifications (1)" not in admin_client.get("/").get_data(as_text=True)
