"""Four people, two workspaces, in real browsers: a manager connects an account in workspace A
and turns approval on, an editor composes and submits, the manager approves from the queue, the
post is published on the sandbox; a viewer of A sees it all without a post button, and a member
of workspace B sees none of it (404 on A's post address)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_browser_composer import real_video, settings, settled  # noqa: F401 - fixture
from tests.test_jobs import run_worker_burst
from tests.test_publishing import accepted_inits, drive, job_settings  # noqa: F401 - fixture
from webapp.models import (
    Account,
    Membership,
    Post,
    PostEvent,
    PostTarget,
    TikTokService,
    Workspace,
)

pytestmark = pytest.mark.browser


def browser_of(chromium, live_server: str, email: str):
    """Open a browser of one's own (own cookies) and sign in; return its page."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/w/*/")
    return page


def test_four_people_share_a_workspace_with_approval(
    app,
    live_server,
    chromium,
    tiktok,
    settings,  # noqa: F811 - the composer tests' fixture, imported above (the sandbox in config)
    job_settings,  # noqa: F811 - the fixture imported above: jobs run here with the app's settings
    tmp_path,
):
    from tests.conftest import make_user

    app.config["PUBLIC_URL"] = live_server
    service = TikTokService.load()
    service.audited = True
    service.save()
    mia = make_user("mia@example.com", name="Mia Manager")
    eddie = make_user("eddie@example.com", name="Eddie Editor")
    vera = make_user("vera@example.com", name="Vera Viewer")
    bo = make_user("bo@example.com", name="Bo Elsewhere")  # only in his own workspace, B

    # Mia creates workspace A and connects a TikTok account in it.
    manager = browser_of(chromium, live_server, mia.email)
    manager.goto(f"{live_server}/workspaces/")
    manager.get_by_label("New workspace").fill("Acme Shoes")
    manager.get_by_role("button", name="Create workspace").click()
    manager.wait_for_url(f"{live_server}/w/acme-shoes/")
    assert manager.title().startswith("Dashboard · Acme Shoes")
    acme = Workspace.get(Workspace.slug == "acme-shoes")
    Membership.create(workspace=acme, user=eddie, role="editor")
    Membership.create(workspace=acme, user=vera, role="viewer")
    manager.get_by_role("complementary", name="Main menu").get_by_role(
        "link", name="Accounts"
    ).click()
    manager.get_by_role("button", name="Add Account").click()
    dialog = manager.get_by_role("dialog")
    dialog.wait_for()
    with manager.context.expect_page() as new_tab:
        dialog.get_by_role("button", name="TikTok").click()
    tab = new_tab.value
    tab.wait_for_load_state()
    tab.get_by_role("button", name="Authorize").click()
    tab.wait_for_url(f"{live_server}/accounts/callback*")
    tab.close()
    manager.get_by_text("@maya.rivers is connected.").wait_for(timeout=10_000)
    account = Account.get()
    assert account.workspace_id == acme.id

    # ... and turns approval on in the workspace's settings.
    manager.get_by_role("complementary", name="Main menu").get_by_role(
        "link", name="Settings"
    ).click()
    manager.get_by_label("Require approval").check()
    manager.get_by_role("button", name="Save settings").click()
    expect(manager.get_by_role("status").first).to_be_visible()
    assert Workspace.get_by_id(acme.id).approval_required

    # Eddie composes in A and submits: it waits for approval, nothing reaches TikTok.
    with app.app_context():
        video = real_video(eddie, app)
    video.workspace = acme.id
    video.save()
    editor = browser_of(chromium, live_server, eddie.email)
    editor.goto(f"{live_server}/w/acme-shoes/compose/")
    panel = editor.locator(f"#panel-{account.id}")
    editor.locator("#media").select_option(str(video.id))
    settled(editor)
    editor.get_by_label("Caption").fill("New season, new laces")
    panel.get_by_label("Everyone", exact=True).check()
    settled(editor)
    editor.get_by_role("button", name="Post now").click()
    expect(editor.get_by_text("Sent for approval.")).to_be_visible()
    expect(editor.get_by_role("link", name="Approvals")).to_have_count(0)  # not an editor's
    post = Post.get()
    assert post.status == "awaiting_approval" and post.workspace_id == acme.id
    assert tiktok.control("state")["inits"] == []

    # Mia approves from the queue, on the composer panel as Eddie left it, decided afresh.
    manager.get_by_role("complementary", name="Main menu").get_by_role(
        "link", name="Approvals"
    ).click()
    row = manager.locator(f"tr[data-post-id='{post.id}']")
    expect(row).to_contain_text("Eddie Editor")
    row.get_by_role("link").click()
    panel = manager.locator(f"#panel-{account.id}")
    expect(panel.get_by_label("Everyone", exact=True)).to_be_checked()
    expect(panel.get_by_label("Everyone", exact=True)).to_be_disabled()  # decided, not edited
    expect(manager.locator("video.preview-media")).to_be_visible()
    expect(manager.locator("p.declaration")).to_contain_text("Music Usage Confirmation")
    manager.get_by_role("button", name="Approve").click()
    expect(manager.get_by_text("Approved and sent for publishing.")).to_be_visible()
    consent = PostEvent.get((PostEvent.post == post.id) & (PostEvent.kind == "consent"))
    assert consent.data["user_email"] == mia.email  # the approver's click is the consent

    # A worker publishes it on the sandbox.
    result = run_worker_burst(settings)
    assert result.returncode == 0, result.stderr
    target = drive(PostTarget.get(PostTarget.post == post.id).id)
    assert target.status == "published", target.error_message
    assert len(accepted_inits(tiktok)) == 1

    # Vera sees it all, but no button to post, edit, cancel or retry.
    viewer = browser_of(chromium, live_server, vera.email)
    viewer.goto(f"{live_server}/w/acme-shoes/posts/{post.id}")
    expect(viewer.get_by_text("New season, new laces").first).to_be_visible()
    expect(viewer.locator("#approval")).to_contain_text("Approved by Mia Manager")
    expect(viewer.locator("#approval")).to_contain_text("Sent for approval by Eddie Editor")
    expect(viewer.get_by_role("link", name="Approvals")).to_have_count(0)
    for name in ("Create Post", "Edit", "Cancel post", "Retry", "Review"):
        expect(viewer.get_by_role("link", name=name, exact=True)).to_have_count(0)
        expect(viewer.get_by_role("button", name=name, exact=True)).to_have_count(0)
    viewer.screenshot(path=str(tmp_path / "viewer-post.png"), full_page=True)

    # Bo, in workspace B only, sees none of it and gets a 404 on A's post address.
    other = browser_of(chromium, live_server, bo.email)
    reply = other.goto(f"{live_server}/w/acme-shoes/posts/{post.id}")
    assert reply.status == 404
    reply = other.goto(f"{live_server}/posts/{post.id}")
    assert reply.status == 404
    other.goto(f"{live_server}/posts/")
    expect(other.get_by_text("New season, new laces")).to_have_count(0)
    for page in (manager, editor, viewer, other):
        page.context.close()
