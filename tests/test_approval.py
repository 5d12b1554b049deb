"""Approval in a workspace that requires it, through the real app, the sandbox over HTTP, Redis
and a worker: an editor's Post now / Schedule waits for a manager (nothing sent, nothing
queued), the manager approves (their click is the consent) or sends it back with a comment, an
edit after approval needs approving again, a missed time needs a new one, and only managers
decide."""

# ruff: noqa: F811 - tests take the publishing tests' fixtures (imported below) by name
from __future__ import annotations

import datetime as dt
import re

import pytest
from rq.registry import ScheduledJobRegistry

import jobs
from jobs import publishing as pubjobs
from tests import accounts_flow as flow
from tests.conftest import WorkspaceClient, csrf_token, home, login, make_user
from tests.test_jobs import run_worker_burst

# job_settings (jobs run here with the app's settings) and service (the sandbox as an audited
# app) are the publishing tests' fixtures.
from tests.test_publishing import (  # noqa: F401 - fixtures among them
    accepted_inits,
    drive,
    job_settings,
    service,
    video_file,
)
from webapp import publishing
from webapp.models import (
    Account,
    Media,
    Membership,
    Notification,
    Post,
    PostEvent,
    PostTarget,
    Workspace,
    utcnow,
)

DECLARATION = "By posting, you agree to TikTok's Music Usage Confirmation."


@pytest.fixture
def team(app, db, service):
    """A workspace that requires approval: Mona (manager, connected @maya.rivers), Eddie
    (editor), Vera (viewer), and Olga, a manager of another workspace. Each has a client."""
    mona = make_user("mona@example.com", name="Mona Manager")
    eddie = make_user("eddie@example.com", name="Eddie Editor")
    vera = make_user("vera@example.com", name="Vera Viewer")
    olga = make_user("olga@example.com", name="Olga Other")
    workspace = Workspace.get_by_id(home(mona))
    workspace.approval_required = True
    workspace.save()
    Membership.create(workspace=workspace, user=eddie, role="editor")
    Membership.create(workspace=workspace, user=vera, role="viewer")
    app.test_client_class = WorkspaceClient
    clients = {}
    for user in (mona, eddie, vera, olga):
        client = app.test_client()
        assert login(client, user.email).status_code == 303
        clients[user.email.split("@")[0]] = client
    flow.connect(clients["mona"])
    account = Account.get(Account.open_id == "sbx-open-maya")
    assert account.workspace_id == workspace.id
    return {
        "ws": workspace,
        "base": f"/w/{workspace.slug}",
        "account": account,
        "mona": mona,
        "eddie": eddie,
        "vera": vera,
        "olga": olga,
        "clients": clients,
    }


def video(team, settings, name="clip.mp4") -> Media:
    path = video_file(settings, name)
    return Media.create(
        workspace=team["ws"],
        owner=team["eddie"],
        kind="video",
        original_name=name,
        stored_name=f"1/{name}",
        content_type="video/mp4",
        container="mp4",
        video_codec="h264",
        size_bytes=path.stat().st_size,
        duration_ms=1000,
        width=360,
        height=640,
        fps=30,
        problems=[],
    )


def compose(team, who: str, media: Media, **changes):
    """Submit the composer as `who`; return the response."""
    account = team["account"]
    data = {
        "accounts": str(account.id),
        "post_type": "video",
        "media": str(media.id),
        "caption": "Team post #cadence",
        f"a{account.id}-privacy": "PUBLIC_TO_EVERYONE",
        "action": "post_now",
    }
    data.update(changes)
    client = team["clients"][who]
    path = f"{team['base']}/compose/"
    data["csrf_token"] = csrf_token(client, path)
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def decide(team, who: str, post: Post, **form):
    """Answer the review page as `who` would, with the page's token and what it showed."""
    client = team["clients"][who]
    path = f"{team['base']}/approvals/{post.id}"
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    seen = re.search(r'name="seen" value="([^"]*)"', page).group(1)
    return client.post(path, data={"seen": seen, **form, "csrf_token": token})


def queued_jobs(app) -> list[str]:
    """Return the ids of the publish jobs waiting in Redis (queued or scheduled)."""
    redis = app.extensions["redis"]
    queue = jobs.queue(redis)
    ids = list(queue.job_ids) + list(ScheduledJobRegistry(queue=queue).get_job_ids())
    return [i for i in ids if i.startswith("publish-")]


def local_input(moment: dt.datetime) -> str:
    """Return a UTC moment as the datetime-local input a person in the default zone types."""
    from webapp.models import AppSettings
    from webapp.timezones import to_local, zone_for

    zone = zone_for(None, AppSettings.load().timezone)
    return to_local(moment, zone).strftime("%Y-%m-%dT%H:%M")


def notes(user, kind: str) -> list[Notification]:
    return list(
        Notification.select().where((Notification.user == user.id) & (Notification.kind == kind))
    )


def submitted(team, job_settings, **changes) -> Post:
    reply = compose(team, "eddie", video(team, job_settings), **changes)
    assert reply.status_code == 303, re.findall(r"<li>(.*?)</li>", reply.get_data(as_text=True))
    return Post.get()


# --- submitting ---------------------------------------------------------------------------------


def test_an_editors_post_waits_and_nothing_goes_to_tiktok(team, job_settings, app, sandbox):
    media = video(team, job_settings)
    eddie_page = team["clients"]["eddie"].get(f"{team['base']}/compose/").get_data(as_text=True)
    assert "nothing reaches TikTok until they approve it" in eddie_page
    assert 'value="post_now"' in eddie_page and ">Post now</button>" in eddie_page
    mona_page = team["clients"]["mona"].get(f"{team['base']}/compose/").get_data(as_text=True)
    assert "nothing reaches TikTok until they approve it" not in mona_page

    reply = compose(team, "eddie", media)
    assert reply.status_code == 303
    page = team["clients"]["eddie"].get(reply.headers["Location"]).get_data(as_text=True)
    assert "Sent for approval." in page and "Awaiting approval" in page
    post = Post.get()
    assert post.status == "awaiting_approval" and post.status_label == "Awaiting approval"
    assert (post.submitted_by_id, post.approved_by_id, post.consent_at) == (
        team["eddie"].id,
        None,
        None,
    )
    assert post.scheduled_at is None  # asked for "now": it goes when approved
    assert [t.status for t in post.targets] == ["awaiting_approval"]
    assert not PostEvent.select().where(PostEvent.kind == "consent").exists()
    assert queued_jobs(app) == []
    # The reconciler and a stray job leave it alone: nothing reaches the sandbox.
    assert pubjobs.reconcile()["queued"] == 0
    target = post.targets.get()
    assert pubjobs.publish_target(target.id).startswith("nothing to do")
    assert sandbox.control("state")["inits"] == []
    assert PostTarget.get_by_id(target.id).status == "awaiting_approval"
    # The request goes to the workspace's managers only, linking to the review page.
    (request,) = notes(team["mona"], "approval_requested")
    assert request.link == f"{team['base']}/approvals/{post.id}"
    assert "Eddie Editor" in request.message
    assert not notes(team["eddie"], "approval_requested")
    assert not notes(team["vera"], "approval_requested")


def test_a_manager_posts_directly(team, job_settings, app):
    reply = compose(team, "mona", video(team, job_settings))
    assert reply.status_code == 303
    post = Post.get()
    assert post.status == "scheduled" and post.submitted_by_id is None
    assert PostEvent.select().where(PostEvent.kind == "consent").count() == 1


# --- approving ----------------------------------------------------------------------------------


def test_the_manager_approves_from_the_queue_and_it_is_published_with_their_consent(
    team, job_settings, app, sandbox
):
    post = submitted(team, job_settings)
    mona = team["clients"]["mona"]
    queue = mona.get(f"{team['base']}/approvals/").get_data(as_text=True)
    assert "Eddie Editor" in queue and "@maya.rivers" in queue and "As soon as approved" in queue
    assert f"{team['base']}/approvals/{post.id}" in queue
    review = mona.get(f"{team['base']}/approvals/{post.id}")
    html = review.get_data(as_text=True)
    assert review.status_code == 200
    # The composer panel as the editor saw it: the creator, the choices, preview, declaration.
    assert "Maya Rivers" in html and "Who can view this video" in html
    radio = re.search(r'<input[^>]*value="PUBLIC_TO_EVERYONE"[^>]*>', html).group(0)
    assert "checked" in radio
    assert "Allow Comment" in html and "Disclose post content" in html
    assert f"/media/{post.media_links.get().media_id}" in html  # the preview's video
    assert "By posting, you agree to TikTok&#39;s" in html and "Music Usage Confirmation" in html
    assert ">Approve</button>" in html and ">Send back</button>" in html

    reply = decide(team, "mona", post, decision="approve", new_time="")
    assert reply.status_code == 303, reply.get_data(as_text=True)
    post = Post.get_by_id(post.id)
    assert post.status == "scheduled" and post.approved_by_id == team["mona"].id
    assert post.consent_at is not None and post.approved_at is not None
    consent = PostEvent.get(PostEvent.kind == "consent")
    assert consent.data["user_id"] == team["mona"].id
    assert consent.data["user_email"] == "mona@example.com"
    assert consent.data["declaration"] == DECLARATION
    assert consent.data["action"] == "post_now"
    assert consent.data["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert consent.message == f"Mona Manager confirmed: “{DECLARATION}”"
    (decision,) = notes(team["eddie"], "post_approved")
    assert decision.link == f"{team['base']}/posts/{post.id}"
    assert not notes(team["mona"], "post_approved")

    result = run_worker_burst(job_settings)
    assert result.returncode == 0, result.stderr
    target = drive(post.targets.get().id)
    assert target.status == "published", target.error_message
    assert len(accepted_inits(sandbox)) == 1
    detail = team["clients"]["eddie"].get(f"{team['base']}/posts/{post.id}").get_data(as_text=True)
    assert "Sent for approval by Eddie Editor" in detail and "Approved by Mona Manager" in detail


def test_tiktoks_rules_refuse_an_approval_when_the_creator_changed(team, job_settings, sandbox):
    account = team["account"]
    post = submitted(team, job_settings, **{f"a{account.id}-allow_duet": "on"})
    sandbox.control("creators/maya.rivers", {"duet_disabled": True})
    reply = decide(team, "mona", post, decision="approve")
    assert reply.status_code == 422
    assert "Not approved: nothing was sent to TikTok" in reply.get_data(as_text=True)
    assert Post.get_by_id(post.id).status == "awaiting_approval"
    assert not PostEvent.select().where(PostEvent.kind == "consent").exists()


# --- sending back, editing ----------------------------------------------------------------------


def test_send_back_needs_a_comment_and_returns_a_draft(team, job_settings):
    post = submitted(team, job_settings)
    reply = decide(team, "mona", post, decision="send_back", comment="   ")
    assert reply.status_code == 422
    assert "Write a comment for the author: say what to change." in reply.get_data(as_text=True)
    assert Post.get_by_id(post.id).status == "awaiting_approval"

    reply = decide(team, "mona", post, decision="send_back", comment="Use the new logo shot.")
    assert reply.status_code == 303
    post = Post.get_by_id(post.id)
    assert (post.status, post.review_note) == ("draft", "Use the new logo shot.")
    assert [t.status for t in post.targets] == ["draft"]
    (decision,) = notes(team["eddie"], "post_sent_back")
    assert "Use the new logo shot." in decision.message
    eddie = team["clients"]["eddie"]
    detail = eddie.get(f"{team['base']}/posts/{post.id}").get_data(as_text=True)
    assert "Sent back with this comment" in detail and "Use the new logo shot." in detail
    edit = eddie.get(f"{team['base']}/compose/{post.id}/edit").get_data(as_text=True)
    assert "A manager sent this post back:" in edit and "Use the new logo shot." in edit
    # Sent again, it waits again, and the comment is done with.
    reply = compose(team, "eddie", post.media_links.get().media, post_id=str(post.id))
    assert reply.status_code == 303
    post = Post.get_by_id(post.id)
    assert (post.status, post.review_note) == ("awaiting_approval", "")


def test_an_edit_after_approval_needs_approval_again(team, job_settings, app):
    when = utcnow() + dt.timedelta(hours=2)
    post = submitted(team, job_settings, action="schedule", schedule_at=local_input(when))
    assert post.scheduled_at == when.replace(second=0, microsecond=0)
    assert decide(team, "mona", post, decision="approve").status_code == 303
    post = Post.get_by_id(post.id)
    assert post.status == "scheduled" and post.approved_by_id == team["mona"].id
    assert len(queued_jobs(app)) == 1

    reply = compose(
        team,
        "eddie",
        post.media_links.get().media,
        post_id=str(post.id),
        action="schedule",
        schedule_at=local_input(when),
        caption="Changed after approval",
    )
    assert reply.status_code == 303
    post = Post.get_by_id(post.id)
    assert post.status == "awaiting_approval" and post.caption == "Changed after approval"
    assert (post.approved_by_id, post.approved_at, post.consent_at) == (None, None, None)
    assert [t.status for t in post.targets] == ["awaiting_approval"]
    assert queued_jobs(app) == []  # the approved run's job is gone
    assert len(notes(team["mona"], "approval_requested")) == 2


# --- a time that passed -------------------------------------------------------------------------


def test_a_missed_time_is_refused_until_a_new_time_is_given(team, job_settings, app):
    when = utcnow() + dt.timedelta(hours=1)
    post = submitted(team, job_settings, action="schedule", schedule_at=local_input(when))
    Post.update(scheduled_at=utcnow() - dt.timedelta(minutes=5)).where(Post.id == post.id).execute()
    post = Post.get_by_id(post.id)
    assert post.missed and post.status_label == "Missed: approve with a new time"
    assert pubjobs.reconcile()["queued"] == 0  # never published late on its own
    mona = team["clients"]["mona"]
    queue = mona.get(f"{team['base']}/approvals/").get_data(as_text=True)
    assert "Missed: approve with a new time" in queue
    review = mona.get(f"{team['base']}/approvals/{post.id}").get_data(as_text=True)
    assert re.search(r'<input type="datetime-local" name="new_time" required>', review)

    reply = decide(team, "mona", post, decision="approve", new_time="")
    assert reply.status_code == 422
    assert publishing.MISSED_REFUSAL in reply.get_data(as_text=True)
    assert Post.get_by_id(post.id).status == "awaiting_approval"
    reply = decide(team, "mona", post, decision="approve", new_time="not a time")
    assert reply.status_code == 422
    assert "Choose the date and time to post at." in reply.get_data(as_text=True)

    new_time = utcnow() + dt.timedelta(minutes=30)
    reply = decide(team, "mona", post, decision="approve", new_time=local_input(new_time))
    assert reply.status_code == 303
    post = Post.get_by_id(post.id)
    assert post.status == "scheduled"
    assert post.scheduled_at == new_time.replace(second=0, microsecond=0)
    assert PostEvent.get(PostEvent.kind == "consent").data["action"] == "schedule"
    assert len(queued_jobs(app)) == 1


# --- who may decide -----------------------------------------------------------------------------


def test_only_managers_approve(team, job_settings):
    post = submitted(team, job_settings)
    base = team["base"]
    for who in ("eddie", "vera"):
        client = team["clients"][who]
        assert client.get(f"{base}/approvals/").status_code == 403, who
        assert client.get(f"{base}/approvals/{post.id}").status_code == 403, who
        token = csrf_token(client, f"{base}/posts/{post.id}")
        reply = client.post(
            f"{base}/approvals/{post.id}", data={"decision": "approve", "csrf_token": token}
        )
        assert reply.status_code == 403, who
        assert "Only the workspace&#39;s managers approve posts." in reply.get_data(as_text=True)
    olga = team["clients"]["olga"]
    assert olga.get(f"{base}/approvals/{post.id}").status_code == 404
    assert Post.get_by_id(post.id).status == "awaiting_approval"
    assert not PostEvent.select().where(PostEvent.kind == "consent").exists()
    # The editor sees their post's state but no Review button; the manager has one.
    detail = team["clients"]["eddie"].get(f"{base}/posts/{post.id}").get_data(as_text=True)
    assert "Waiting for a manager to approve it" in detail and ">Review</a>" not in detail
    detail = team["clients"]["mona"].get(f"{base}/posts/{post.id}").get_data(as_text=True)
    assert ">Review</a>" in detail


def test_an_approval_of_a_post_changed_since_the_page_was_opened_is_refused(team, job_settings):
    post = submitted(team, job_settings)
    mona = team["clients"]["mona"]
    path = f"{team['base']}/approvals/{post.id}"
    page = mona.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    seen = re.search(r'name="seen" value="([^"]*)"', page).group(1)
    reply = compose(
        team, "eddie", post.media_links.get().media, post_id=str(post.id), caption="Swapped"
    )
    assert reply.status_code == 303
    reply = mona.post(path, data={"decision": "approve", "seen": seen, "csrf_token": token})
    assert reply.status_code == 422
    assert "The author changed this post after you opened it" in reply.get_data(as_text=True)
    assert Post.get_by_id(post.id).status == "awaiting_approval"
    assert decide(team, "mona", post, decision="approve").status_code == 303
    assert Post.get_by_id(post.id).caption == "Swapped"


def test_a_manager_posting_a_submitted_post_from_the_composer_approves_it(team, job_settings):
    post = submitted(team, job_settings)
    reply = compose(team, "mona", post.media_links.get().media, post_id=str(post.id))
    assert reply.status_code == 303
    post = Post.get_by_id(post.id)
    assert post.status == "scheduled" and post.approved_by_id == team["mona"].id
    assert PostEvent.get(PostEvent.kind == "consent").data["user_id"] == team["mona"].id


def test_media_of_a_post_awaiting_approval_cannot_be_deleted(team, job_settings):
    post = submitted(team, job_settings)
    media = post.media_links.get().media
    mona = team["clients"]["mona"]
    path = f"{team['base']}/media/{media.id}/delete"
    reply = mona.post(path, data={"csrf_token": csrf_token(mona, path)}, follow_redirects=True)
    assert "(awaiting approval)" in reply.get_data(as_text=True)
    assert Media.get_by_id(media.id).status != "deleted"


def test_a_target_left_scheduled_under_a_post_awaiting_approval_is_never_started(
    team, job_settings, sandbox
):
    post = submitted(team, job_settings)
    target = post.targets.get()
    # However it came about, a scheduled target doesn't outrank its post's missing approval.
    PostTarget.update(status="scheduled").where(PostTarget.id == target.id).execute()
    assert pubjobs.reconcile()["queued"] == 0
    assert pubjobs.publish_target(target.id) == "the target changed meanwhile"
    assert PostTarget.get_by_id(target.id).status == "scheduled"
    assert sandbox.control("state")["inits"] == []
