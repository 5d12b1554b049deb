"""Follow the generated demo guide literally in Chromium: web (live server), a real worker
process and the sandbox. Every element is found by the label the guide names, so changing a
label in the app without changing the guide (or the other way round) breaks this test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_browser_composer import settled
from tests.test_publishing import add_media, worker_env
from webapp.auditkit.guide import STEPS
from webapp.models import AuditKit, TikTokService

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(settings, sandbox_server):
    """Point the app at the sandbox in its config too, so the CSP admits its avatars."""
    return {
        **settings,
        "TIKTOK_AUTH_BASE_URL": sandbox_server.url,
        "TIKTOK_API_BASE_URL": sandbox_server.url,
    }


@pytest.fixture
def worker(app, settings):
    process = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--workers", "1"],
        env=worker_env(dict(app.config)),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_the_generated_guide_walks_through_to_the_published_post(
    app, live_server, page, admin, tiktok, worker
):
    app.config["PUBLIC_URL"] = live_server
    service = TikTokService.load()
    service.audited = True
    service.save()
    kit = AuditKit.load()
    kit.demo_email = admin.email
    kit.save()
    add_media(admin, dict(app.config), name="demo.mp4")
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    context = page.context
    tab = None
    for number, step in enumerate(STEPS, 1):
        where = tab if step.label == "Authorize" else page
        if step.role in ("link", "button"):
            scope = (
                where.get_by_role("complementary", name="Main menu")
                if (step.label in ("Accounts",))
                else where
            )
            target = scope.get_by_role(step.role, name=step.label, exact=True).first
            expect(target).to_be_visible()
            if step.label == "TikTok":
                with context.expect_page() as opened:
                    target.click()
                tab = opened.value
                tab.wait_for_load_state()
                continue
            if step.label == "Authorize":
                target.click()
                tab.wait_for_url(f"{live_server}/accounts/tiktok/callback*")
                tab.close()
                page.locator(".account-card").wait_for(timeout=10_000)
                continue
            if step.label == "Open on TikTok":
                assert target.get_attribute("href").startswith(f"{tiktok.url}/@maya.rivers/video/")
                with context.expect_page() as opened:
                    target.click()
                post_page = opened.value
                post_page.wait_for_load_state()
                assert "maya.rivers" in post_page.content()  # the sandbox's page for the post
                continue
            target.click()
            if step.label == "Post now":
                page.wait_for_url(f"{live_server}/posts/*")
            else:
                page.wait_for_load_state()
        elif step.role == "option":
            select = page.locator("select", has=page.locator("option", has_text=step.label))
            select.first.select_option(label=step.label)
            settled(page)
        elif step.role in ("checkbox", "switch"):
            page.get_by_label(step.label, exact=True).first.check()
            settled(page)
        elif step.role == "none":
            field = page.get_by_label(step.label, exact=True).first
            expect(field).to_be_visible()
            if step.label == "Video to post":
                field.select_option(label="demo.mp4")
                settled(page)
            elif step.label == "Caption":
                field.fill("Made with Cadence #demo")
                settled(page)
        elif step.role == "page":
            # The status widget moves by itself until the post is public.
            expect(page.locator("#post-status")).to_contain_text("Published", timeout=30_000)
        assert page.locator(".guide-panel").count() == 1 or number == 1, step
