"""Workspaces in every address: the page title names the workspace, members of one never see
another's, admins enter them all, short addresses from before workspaces lead into the right
one, and creating a workspace refuses bad names with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from tests.conftest import csrf_token, home, login, make_user, post_form
from webapp.models import Membership, Notification, Post, Workspace, utcnow


@pytest.fixture
def two(db):
    """Ann (manager of her workspace) and Ben (his own), each with a scheduled post."""
    ann, ben = make_user("ann@example.com", name="Ann"), make_user("ben@example.com", name="Ben")
    soon = utcnow() + dt.timedelta(days=3)
    posts = {
        who: Post.create(
            workspace=home(who),
            author=who,
            caption=f"{who.name}'s plan",
            status="scheduled",
            scheduled_at=soon,
        )
        for who in (ann, ben)
    }
    return ann, ben, posts


def signed_in(app, user):
    client = app.test_client()
    assert login(client, user.email).status_code == 303
    return client


def test_the_title_and_the_menu_name_the_workspace(app, two):
    ann, _, posts = two
    client = signed_in(app, ann)
    page = client.get("/w/anns-workspace/posts/").get_data(as_text=True)
    assert "<title>Posts · Ann&#39;s workspace · Cadence</title>" in page
    assert 'href="/w/anns-workspace/calendar/"' in page  # the menu stays in the workspace
    assert f'href="/w/anns-workspace/posts/{posts[ann].id}"' in page


def test_another_workspace_is_a_404_whatever_the_address(app, two):
    ann, ben, posts = two
    client = signed_in(app, ann)
    theirs = posts[ben].id
    for path in (
        "/w/bens-workspace/",
        "/w/bens-workspace/posts/",
        f"/w/bens-workspace/posts/{theirs}",
        f"/w/anns-workspace/posts/{theirs}",  # her workspace, his post
        f"/posts/{theirs}",  # the short address
        "/w/no-such-workspace/posts/",
    ):
        reply = app.test_client().get(path)  # signed out first: sign in
        assert reply.status_code == 302 and reply.headers["Location"].startswith("/login"), path
        reply = client.get(path)
        assert reply.status_code == 404, path
        assert "Ben&#39;s plan" not in reply.get_data(as_text=True)


def test_admins_enter_every_workspace(app, two):
    _, ben, posts = two
    boss = make_user("boss@example.com", "admin", name="Boss")
    client = signed_in(app, boss)
    page = client.get(f"/w/bens-workspace/posts/{posts[ben].id}")
    assert page.status_code == 200 and "Ben&#39;s plan" in page.get_data(as_text=True)
    listing = client.get("/workspaces/").get_data(as_text=True)
    assert "Ben&#39;s workspace" in listing and "Ann&#39;s workspace" in listing


def test_short_addresses_lead_into_the_objects_workspace(app, two):
    ann, _, posts = two
    mine = posts[ann].id
    plain = FlaskClient(app, app.response_class)  # a client that follows nothing by itself
    assert login(plain, ann.email).status_code == 303
    reply = plain.get(f"/posts/{mine}?from=mail")
    assert reply.status_code == 302
    assert reply.headers["Location"] == f"/w/anns-workspace/posts/{mine}?from=mail"
    assert plain.get("/calendar/").headers["Location"] == "/w/anns-workspace/calendar/"
    assert plain.get("/").headers["Location"] == "/w/anns-workspace/"
    # A form sent to an old address keeps its method and body (307).
    token = csrf_token(plain, "/w/anns-workspace/notifications/")
    reply = plain.post("/notifications/read", data={"csrf_token": token})
    assert reply.status_code == 307
    assert reply.headers["Location"] == "/w/anns-workspace/notifications/read"


def test_a_workspace_one_was_removed_from_is_gone_at_the_next_request(app, two):
    ann, ben, _ = two
    Membership.create(workspace=home(ann), user=ben, role="editor")
    client = signed_in(app, ben)
    assert client.get("/w/anns-workspace/posts/").status_code == 200
    Membership.delete().where(
        Membership.user == ben.id, Membership.workspace == home(ann)
    ).execute()
    assert client.get("/w/anns-workspace/posts/").status_code == 404


def test_a_viewer_is_told_why_a_page_is_refused(app, two):
    ann, ben, _ = two
    Membership.create(workspace=home(ann), user=ben, role="viewer")
    client = signed_in(app, ben)
    assert client.get("/w/anns-workspace/posts/").status_code == 200
    reply = client.get("/w/anns-workspace/compose/")
    assert reply.status_code == 403
    assert "Viewers can&#39;t change anything in this workspace." in reply.get_data(as_text=True)
    page = client.get("/w/anns-workspace/posts/").get_data(as_text=True)
    assert "Create Post" not in page


def test_notifications_stay_in_their_workspace(app, two):
    ann, ben, _ = two
    Membership.create(workspace=home(ben), user=ann, role="editor")
    Notification.create(user=ann, workspace=home(ann), kind="x", message="About Ann's own")
    Notification.create(user=ann, workspace=home(ben), kind="x", message="About Ben's account")
    Notification.create(user=ann, kind="x", message="About the installation")
    client = signed_in(app, ann)
    own = client.get("/w/anns-workspace/notifications/").get_data(as_text=True)
    assert "About Ann" in own and "About Ben" not in own and "About the installation" in own
    assert "Notifications (2)" in own
    other = client.get("/w/bens-workspace/notifications/").get_data(as_text=True)
    assert "About Ben" in other and "About Ann" not in other


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "Give the workspace a name."),
        ("   ", "Give the workspace a name."),
        ("x" * 81, "A workspace name has at most 80 characters."),
        ("Tab\there", "A workspace name can&#39;t contain control characters."),
    ],
)
def test_a_bad_workspace_name_is_refused_with_the_reason(app, two, name, problem):
    ann, _, _ = two
    client = signed_in(app, ann)
    before = Workspace.select().count()
    reply = post_form(client, "/workspaces/", {"name": name})
    assert reply.status_code == 422
    assert problem in reply.get_data(as_text=True)
    assert Workspace.select().count() == before


def test_workspaces_with_the_same_name_get_their_own_addresses(app, two):
    ann, _, _ = two
    client = signed_in(app, ann)
    first = post_form(client, "/workspaces/", {"name": "Acme"})
    second = post_form(client, "/workspaces/", {"name": "ACME!"})
    assert first.headers["Location"] == "/w/acme/"
    assert second.headers["Location"] == "/w/acme-2/"
    assert Membership.get(Membership.workspace == Workspace.get(slug="acme-2")).role == "manager"
