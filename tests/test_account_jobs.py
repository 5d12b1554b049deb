"""Periodic account care run by a real worker process against the sandbox."""

from __future__ import annotations

import datetime as dt

import jobs
from jobs import upkeep as account_jobs
from jobs.periodic import PERIODIC, tick
from tests import accounts_flow as flow
from tests.conftest import home
from tests.test_jobs import run_worker_burst
from webapp.models import Account, Notification, Post, PostTarget, utcnow


def test_each_periodic_slot_is_enqueued_once_across_workers(app):
    r = app.extensions["redis"]
    first = tick(r, now=1_000_000)
    assert len(first) == len(PERIODIC)
    assert tick(r, now=1_000_001) == []  # same slots: another worker's tick adds nothing
    later = tick(r, now=1_000_000 + 300)
    assert "periodic-refresh-tokens-3334" in later


def test_tokens_close_to_expiry_are_refreshed_by_the_worker(admin_client, tiktok, settings, app):
    flow.connect(admin_client)
    account = Account.get()
    old_access = account.access_token()
    account.access_token_expires_at = utcnow() + dt.timedelta(minutes=5)
    account.save()
    jobs.enqueue(app.extensions["redis"], account_jobs.refresh_expiring, job_id="refresh-now")
    assert run_worker_burst(settings).returncode == 0
    account = Account.get()
    assert account.access_token() != old_access
    assert account.access_token_expires_at - utcnow() > dt.timedelta(hours=1)


def test_accounts_are_checked_ahead_of_their_scheduled_posts(admin_client, tiktok, settings, app):
    flow.connect(admin_client, creator="omar.paused")
    account = Account.get()
    account.last_checked_at = utcnow() - dt.timedelta(hours=1)
    account.save()
    post = Post.create(
        workspace=home(account.owner),
        author=account.owner,
        caption="soon",
        status="scheduled",
        scheduled_at=utcnow() + dt.timedelta(minutes=10),
    )
    PostTarget.create(post=post, account=account, status="scheduled")
    jobs.enqueue(app.extensions["redis"], account_jobs.check_upcoming, job_id="check-now")
    assert run_worker_burst(settings).returncode == 0
    account = Account.get()
    assert "posted too much today" in account.status_reason
    assert account.last_checked_at > utcnow() - dt.timedelta(minutes=1)
    assert Notification.select().where(Notification.kind == "account_cant_post").count() == 1
