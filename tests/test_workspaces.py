"""A workspace's members, invitations, settings and deletion, through the real app, database
and Redis (and a real worker and SMTP server for the emailed invitation)."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, _empty_tables, csrf_token, login, make_user, post_form
from tests.test_mail import _start, make_certificates
from webapp import mail
from webapp.models import (
    Account,
    Invitation,
    Media,
    Membership,
    Notification,
    Post,
    PostMedia,
    PostTarget,
    User,
    Workspace,
    utcnow,
)
from webapp.workspaces import invitations, members
from webapp.workspaces.roles import Role

MIA = "mia@example.com"  # the manager
LINK = re.compile(r"https://cadence\.example\.com/invite/([A-Za-z0-9_-]+)")


@pytest.fixture
def team(db):
    """Mia manages her workspace; Ed edits and Vi views in it; Olga is in none of it."""
    mia = make_user(MIA, name="Mia Manager")
    workspace = members.default_for(mia)
    ed = make_user("ed@example.com", name="Ed Editor")
    vi = make_user("vi@example.com", name="Vi Viewer")
    olga = make_user("olga@example.com", name="Olga Outsider")
    members.add_member(workspace, ed, Role.EDITOR)
    members.add_member(workspace, vi, Role.VIEWER)
    return {"ws": workspace, "mia": mia, "ed": ed, "vi": vi, "olga": olga}


def text(response) -> str:
    """Return the page as a person reads it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def signed_in(app, user):
    """Return a new client signed in as user."""
    client = app.test_client()
    assert login(client, user.email).status_code == 303
    return client


def url(team, path: str = "") -> str:
    return f"/w/{team['ws'].slug}/{path}"


def role_in(team, user) -> str | None:
    row = Membership.get_or_none(
        (Membership.workspace == team["ws"].id) & (Membership.user == user.id)
    )
    return row.role if row else None


# --- the Members page --------------------------------------------------------------------------


def test_members_page_lists_everyone_with_their_role(app, team):
    page = text(signed_in(app, team["vi"]).get(url(team, "members")))
    for name in ("Mia Manager", "Ed Editor", "Vi Viewer"):
        assert name in page
    assert "Olga" not in page
    assert "Sees everything in the workspace and changes nothing." in page  # roles.SUMMARIES
    # A viewer sees who is in it, not the managers' forms or the open invitations.
    assert "Invite someone" not in page and "Open invitations" not in page
    assert 'name="role"' not in page


def test_managers_see_the_forms_and_the_menu_entries(app, team):
    client = signed_in(app, team["mia"])
    page = text(client.get(url(team, "members")))
    assert "Invite someone" in page and "Open invitations" in page
    assert f'href="/w/{team["ws"].slug}/settings"' in page  # the menu's Settings entry
    editor_page = text(signed_in(app, team["ed"]).get(url(team, "members")))
    assert f'href="/w/{team["ws"].slug}/settings"' not in editor_page


def test_outsiders_get_404_and_non_managers_403(app, team):
    olga, ed = signed_in(app, team["olga"]), signed_in(app, team["ed"])
    assert olga.get(url(team, "members")).status_code == 404
    assert olga.get(url(team, "settings")).status_code == 404
    for path in ("settings", "delete", f"members/{team['vi'].id}/remove"):
        assert ed.get(url(team, path)).status_code == 403
    response = post_form(
        ed,
        url(team, f"members/{team['vi'].id}/role"),
        {"role": "manager"},
        token_from=url(team, "members"),
    )
    assert response.status_code == 403
    assert role_in(team, team["vi"]) == "viewer"


@pytest.mark.parametrize("who", ["ed", "vi"])
def test_editors_and_viewers_cant_change_members_settings_or_delete(app, team, who):
    invitation = invitations.invite(team["ws"], "x@example.com", "editor", team["mia"]).invitation
    client = signed_in(app, team[who])
    token = csrf_token(client, url(team, "members"))
    for path, data in [
        ("invitations", {"email": "y@example.com", "role": "manager"}),
        (f"invitations/{invitation.id}/revoke", {}),
        (f"members/{team['mia'].id}/remove", {}),
        (f"members/{team[who].id}/role", {"role": "manager"}),
        ("settings", {"name": "Taken over", "approval_required": "on"}),
        ("delete", {"name": team["ws"].name}),
    ]:
        response = client.post(url(team, path), data={**data, "csrf_token": token})
        assert response.status_code == 403, path
        assert "Only the workspace's managers change its members and settings." in text(response)
    workspace = Workspace.get_by_id(team["ws"].id)
    assert workspace.name == team["ws"].name and not workspace.approval_required
    assert Invitation.select().count() == 1 and Invitation.get().revoked_at is None
    assert role_in(team, team["mia"]) == "manager" and role_in(team, team[who]) != "manager"


def test_an_instance_admin_manages_a_workspace_they_arent_in(app, team):
    root = signed_in(app, make_user("root@example.com", "admin", name="Root"))
    response = post_form(
        root,
        url(team, f"members/{team['vi'].id}/role"),
        {"role": "editor"},
        token_from=url(team, "members"),
    )
    assert response.status_code == 303 and role_in(team, team["vi"]) == "editor"


def test_a_manager_changes_a_role(app, team):
    client = signed_in(app, team["mia"])
    response = post_form(
        client,
        url(team, f"members/{team['ed'].id}/role"),
        {"role": "viewer"},
        token_from=url(team, "members"),
    )
    assert response.status_code == 303
    assert role_in(team, team["ed"]) == "viewer"
    assert "Ed Editor is now viewer." in text(client.get(url(team, "members")))


@pytest.mark.parametrize("role", ["", "owner", "MANAGER", "x" * 5000])
def test_an_unknown_role_is_refused_and_nothing_changes(app, team, role):
    client = signed_in(app, team["mia"])
    response = post_form(
        client,
        url(team, f"members/{team['ed'].id}/role"),
        {"role": role},
        token_from=url(team, "members"),
    )
    assert response.status_code == 422
    assert "Choose a role: manager, editor or viewer." in text(response)
    assert role_in(team, team["ed"]) == "editor"


def test_changing_the_role_of_a_non_member_is_404(app, team):
    client = signed_in(app, team["mia"])
    for user_id in (team["olga"].id, 999999):
        response = post_form(
            client,
            url(team, f"members/{user_id}/role"),
            {"role": "viewer"},
            token_from=url(team, "members"),
        )
        assert response.status_code == 404
    assert role_in(team, team["olga"]) is None


def test_the_last_manager_cant_be_demoted(app, team):
    client = signed_in(app, team["mia"])
    response = post_form(
        client,
        url(team, f"members/{team['mia'].id}/role"),
        {"role": "editor"},
        token_from=url(team, "members"),
    )
    assert response.status_code == 422
    assert "only manager, and a workspace always keeps one" in text(response)
    assert role_in(team, team["mia"]) == "manager"
    # With a second manager, Mia may step down.
    members.change_role(team["ws"], team["ed"].id, "manager")
    response = post_form(
        client,
        url(team, f"members/{team['mia'].id}/role"),
        {"role": "editor"},
        token_from=url(team, "members"),
    )
    assert response.status_code == 303
    assert role_in(team, team["mia"]) == "editor"


def test_two_managers_demoting_each_other_at_once_leave_one_manager(team, monkeypatch):
    import threading
    import time

    from webapp.db import db as proxy

    members.change_role(team["ws"], team["ed"].id, "manager")
    counted = members._other_managers

    def slow_count(*args):
        # Both requests have read "the other one is still a manager" before either writes,
        # unless the workspace's lock makes the second wait for the first.
        n = counted(*args)
        time.sleep(0.3)
        return n

    monkeypatch.setattr(members, "_other_managers", slow_count)
    outcomes = []

    def demote(user_id):
        with proxy.connection_context():
            try:
                members.change_role(team["ws"].id, user_id, "editor")
                outcomes.append("demoted")
            except members.RuleError:
                outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(u.id,)) for u in (team["mia"], team["ed"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes) == ["demoted", "refused"]
    assert len(members.managers_of(team["ws"])) == 1


def test_a_deactivated_manager_doesnt_count_as_the_one_that_stays(team):
    members.change_role(team["ws"], team["ed"].id, "manager")
    User.update(active=False).where(User.id == team["ed"].id).execute()
    with pytest.raises(members.RuleError, match="only manager"):
        members.remove_member(team["ws"], team["mia"].id)


def test_removing_a_member_ends_their_access_on_their_next_request(app, team):
    ed = signed_in(app, team["ed"])
    assert ed.get(url(team, "posts/")).status_code == 200
    mia = signed_in(app, team["mia"])
    confirm = mia.get(url(team, f"members/{team['ed'].id}/remove"))
    assert confirm.status_code == 200
    assert "Remove Ed Editor?" in text(confirm)
    response = post_form(mia, url(team, f"members/{team['ed'].id}/remove"))
    assert response.status_code == 303
    assert role_in(team, team["ed"]) is None
    # Same session, next request: the workspace looks like one that doesn't exist.
    assert ed.get(url(team, "posts/")).status_code == 404
    assert ed.get(url(team, "members")).status_code == 404
    assert team["ws"].name not in text(ed.get("/workspaces/"))


def test_the_last_manager_cant_be_removed_or_leave(app, team):
    mia = signed_in(app, team["mia"])
    confirm = text(mia.get(url(team, f"members/{team['mia'].id}/remove")))
    assert "only manager" in confirm and 'type="submit" class="contrast"' not in confirm
    response = post_form(
        mia, url(team, f"members/{team['mia'].id}/remove"), token_from=url(team, "members")
    )
    assert response.status_code == 409
    assert "Make someone else a manager first." in text(response)
    assert role_in(team, team["mia"]) == "manager"


def test_a_manager_can_leave_when_another_manager_stays(app, team):
    members.change_role(team["ws"], team["ed"].id, "manager")
    mia = signed_in(app, team["mia"])
    assert "Leave “" in mia.get(url(team, f"members/{team['mia'].id}/remove")).get_data(
        as_text=True
    )
    response = post_form(mia, url(team, f"members/{team['mia'].id}/remove"))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert role_in(team, team["mia"]) is None
    assert mia.get(url(team, "members")).status_code == 404


# --- inviting ---------------------------------------------------------------------------------


def invite(client, team, email="new@example.com", role="editor"):
    return post_form(
        client,
        url(team, "invitations"),
        {"email": email, "role": role},
        token_from=url(team, "members"),
    )


def test_without_smtp_the_link_is_shown_once_and_only_its_digest_is_stored(app, team):
    mia = signed_in(app, team["mia"])
    response = invite(mia, team, "New.Person@Example.com ")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    token = LINK.search(page).group(1)
    assert "shows the link once" in page
    invitation = Invitation.get()
    assert invitation.email == "new.person@example.com" and invitation.role == "editor"
    assert invitation.token_digest == invitations.digest(token)
    assert token not in str(Invitation.select().dicts().get())
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)
    # The Members page lists it as open, without the link.
    members_page = text(mia.get(url(team, "members")))
    assert "new.person@example.com" in members_page and token not in members_page


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("", "editor", "Enter an email address."),
        ("not-an-email", "editor", "Enter an email address like name@example.com."),
        ("a@b.c" + "x" * 300, "editor", "Enter an email address like name@example.com."),
        ("ok\x1b@example.com", "editor", "Enter an email address like name@example.com."),
        ("ok@example.com", "owner", "Choose a role: manager, editor or viewer."),
        ("ok@example.com", "", "Choose a role: manager, editor or viewer."),
        ("ed@example.com", "viewer", "ed@example.com is already a member of this workspace."),
        ("MIA@example.com", "viewer", "mia@example.com is already a member of this workspace."),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_saved(app, team, email, role, message):
    response = invite(signed_in(app, team["mia"]), team, email, role)
    assert response.status_code == 422
    assert message in text(response)
    assert Invitation.select().count() == 0


def test_inviting_again_replaces_the_older_link(app, team):
    mia = signed_in(app, team["mia"])
    first = LINK.search(text(invite(mia, team))).group(1)
    second = LINK.search(text(invite(mia, team, role="viewer"))).group(1)
    assert first != second
    assert invitations.pending(team["ws"]).count() == 1
    anonymous = app.test_client()
    old = anonymous.get(f"/invite/{first}")
    assert old.status_code == 410 and "withdrawn" in text(old)
    new = text(anonymous.get(f"/invite/{second}"))
    assert "invited as <strong>viewer</strong>" in new


def test_invitations_are_limited_per_hour_and_open_at_once(app, team, monkeypatch):
    monkeypatch.setattr(invitations, "MAX_PER_HOUR", 3)
    for n in range(3):
        invitations.invite(team["ws"], f"p{n}@example.com", "viewer", team["mia"])
    response = invite(signed_in(app, team["mia"]), team, "p9@example.com")
    assert response.status_code == 422
    assert "sent 3 invitations in the last hour" in text(response)
    assert Invitation.select().count() == 3
    monkeypatch.setattr(invitations, "MAX_PER_HOUR", 100)
    monkeypatch.setattr(invitations, "MAX_PENDING", 3)
    with pytest.raises(members.RuleError, match="3 open invitations"):
        invitations.invite(team["ws"], "p9@example.com", "viewer", team["mia"])


def test_a_manager_withdraws_an_invitation(app, team):
    mia = signed_in(app, team["mia"])
    token = LINK.search(text(invite(mia, team))).group(1)
    invitation = Invitation.get()
    response = post_form(
        mia, url(team, f"invitations/{invitation.id}/revoke"), token_from=url(team, "members")
    )
    assert response.status_code == 303
    assert "withdrawn" in text(app.test_client().get(f"/invite/{token}"))
    again = post_form(
        mia, url(team, f"invitations/{invitation.id}/revoke"), token_from=url(team, "members")
    )
    assert again.status_code == 422  # no longer open


def test_a_manager_cant_withdraw_another_workspaces_invitation(app, team):
    olga_ws = members.default_for(team["olga"])
    invitations.invite(olga_ws, "x@example.com", "editor", team["olga"])
    other = Invitation.get()
    response = post_form(
        signed_in(app, team["mia"]),
        url(team, f"invitations/{other.id}/revoke"),
        token_from=url(team, "members"),
    )
    assert response.status_code == 422
    assert Invitation.get_by_id(other.id).revoked_at is None


# --- accepting ----------------------------------------------------------------------------------


def make_invitation(team, email="new@example.com", role="editor") -> str:
    return invitations.invite(team["ws"], email, role, team["mia"]).token


def test_a_new_person_sets_a_password_and_joins(app, team):
    token = make_invitation(team)
    client = app.test_client()
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200  # no sign-in needed
    body = text(page)
    assert f"Join “{team['ws'].name}”" in body and "invited as <strong>editor</strong>" in body
    assert 'name="password"' in body and page.headers["Cache-Control"] == "no-store"
    response = post_form(client, f"/invite/{token}", {"name": "Nia New", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/w/{team['ws'].slug}/")
    nia = User.by_email("new@example.com")
    assert nia.name == "Nia New" and nia.check_password(PASSWORD)
    assert role_in(team, nia) == "editor"
    assert Membership.select().where(Membership.user == nia.id).count() == 1  # no own workspace
    assert client.get(url(team, "posts/")).status_code == 200  # signed in, in the workspace
    used = app.test_client().get(f"/invite/{token}")
    assert used.status_code == 410 and "already been used" in text(used)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Nia", "password": "short"}, "Use at least 10 characters."),
        ({"name": "", "password": PASSWORD}, "Enter your name"),
        ({"name": "N" * 121, "password": PASSWORD}, "Use at most 120 characters"),
        ({"name": "Nia\x1b", "password": PASSWORD}, "without control characters"),
        ({}, "Enter your name"),
    ],
)
def test_a_new_persons_bad_input_saves_nothing(app, team, form, message):
    token = make_invitation(team)
    client = app.test_client()
    response = post_form(client, f"/invite/{token}", form)
    assert response.status_code == 422
    assert message in text(response)
    assert User.by_email("new@example.com") is None
    assert Invitation.get().used_at is None


def test_an_existing_person_signs_in_and_joins(app, team):
    token = make_invitation(team, "olga@example.com", "viewer")
    anonymous = app.test_client()
    page = text(anonymous.get(f"/invite/{token}"))
    assert "already has a login" in page and f"/login?next=/invite/{token}" in page
    assert 'name="password"' not in page
    # Posting without signing in makes no second login.
    refused = post_form(anonymous, f"/invite/{token}", {"name": "X", "password": PASSWORD})
    assert refused.status_code == 409 and role_in(team, team["olga"]) is None
    # Signing in comes back to the invitation.
    back = post_form(
        anonymous,
        f"/login?next=/invite/{token}",
        {"email": "olga@example.com", "password": PASSWORD},
        token_from="/login",
    )
    assert back.headers["Location"] == f"/invite/{token}"
    assert "Join with your sign-in" in text(anonymous.get(f"/invite/{token}"))
    joined = post_form(anonymous, f"/invite/{token}")
    assert joined.status_code == 303
    assert role_in(team, team["olga"]) == "viewer"


def test_signed_in_as_someone_else_says_so_and_refuses(app, team):
    token = make_invitation(team, "olga@example.com")
    ed = signed_in(app, team["ed"])
    page = text(ed.get(f"/invite/{token}"))
    assert (
        "You are signed in as ed@example.com, but this invitation is for olga@example.com" in page
    )
    response = post_form(ed, f"/invite/{token}")
    assert response.status_code == 409
    assert role_in(team, team["olga"]) is None and Invitation.get().used_at is None


def test_expired_tampered_and_garbage_links_say_so(app, team):
    token = make_invitation(team)
    client = app.test_client()
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "short", "x" * 101, "a" * 43 + "%00", "a" * 43 + "%E2%80%8B"):
        response = client.get(f"/invite/{bad}")
        assert response.status_code == 404, bad
        assert "isn't valid" in text(response)
        assert (
            post_form(
                client, f"/invite/{bad}", {"name": "N", "password": PASSWORD}, token_from="/login"
            ).status_code
            == 404
        )
    assert client.get("/invite/..%2f..%2fetc").status_code == 404  # no such route at all
    Invitation.update(expires_at=utcnow() - dt.timedelta(seconds=1)).execute()
    expired = client.get(f"/invite/{token}")
    assert expired.status_code == 410
    assert "expired on" in text(expired)
    response = post_form(
        client, f"/invite/{token}", {"name": "Nia", "password": PASSWORD}, token_from="/login"
    )
    assert response.status_code == 410 and User.by_email("new@example.com") is None


def test_a_link_works_once_even_when_sent_twice(app, team):
    token = make_invitation(team, "olga@example.com")
    olga = signed_in(app, team["olga"])
    assert post_form(olga, f"/invite/{token}", token_from="/login").status_code == 303
    with pytest.raises(invitations.InvitationError, match="already been used"):
        invitations.accept(token, team["olga"])
    assert Membership.select().where(Membership.user == team["olga"].id).count() == 2


def test_an_invitation_never_demotes_someone_already_in(team):
    token = make_invitation(team, "olga@example.com", "viewer")
    members.add_member(team["ws"], team["olga"], Role.MANAGER)
    workspace, _, role = invitations.accept(token, team["olga"])
    assert role == Role.MANAGER and role_in(team, team["olga"]) == "manager"


# --- the emailed invitation ----------------------------------------------------------------------


@pytest.fixture
def smtp(tmp_path, monkeypatch):
    """A real SMTP server (STARTTLS, throwaway CA) and the settings that point at it."""
    certificates = make_certificates(tmp_path)
    server = _start("starttls", certificates)
    for key in mail._config:
        monkeypatch.setitem(mail._config, key, mail._config[key])  # restored after the test
    yield (
        server,
        {
            "SMTP_URL": f"smtp://localhost:{server.server_address[1]}",
            "MAIL_FROM": "cadence@example.com",
            "SMTP_CA_FILE": str(certificates["ca"]),
        },
    )
    server.shutdown()
    server.server_close()


def test_with_smtp_the_link_is_emailed_by_a_worker_not_shown(settings, smtp):
    from webapp import create_app

    server, mail_settings = smtp
    app = create_app({**settings, **mail_settings})
    database = app.extensions["database"]
    _empty_tables(database)
    database.connect(reuse_if_open=True)
    try:
        mia = make_user(MIA, name="Mia Manager")
        workspace = members.default_for(mia)
        team = {"ws": workspace}
        client = signed_in(app, mia)
        response = invite(client, team, "new@example.com", "viewer")
        assert response.status_code == 303
        page = text(client.get(url(team, "members")))
        assert "Invitation emailed to new@example.com." in page
        assert not LINK.search(page)
    finally:
        database.close()
    env = {**os.environ, "CADENCE_DOTENV": ""}
    for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
        env[key] = settings[key]
    env.update(mail_settings)
    result = subprocess.run(
        [sys.executable, "-m", "jobs.worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(server.messages) == 1
    encrypted, message = server.messages[0]
    assert encrypted and "To: new@example.com" in message
    token = LINK.search(message.replace("=\r\n", "")).group(1)
    assert "as viewer" in message and "It works once, until" in message
    database.connect(reuse_if_open=True)
    try:
        assert Invitation.get().token_digest == invitations.digest(token)
        # The job is gone from Redis once sent: the link's secret isn't kept there.
        assert not any(
            token.encode() in (app.extensions["redis"].dump(k) or b"")
            for k in app.extensions["redis"].keys("*")
        )
    finally:
        database.close()


# --- settings ----------------------------------------------------------------------------------


def test_a_manager_renames_and_turns_approval_on_and_off(app, team):
    mia = signed_in(app, team["mia"])
    page = text(mia.get(url(team, "settings")))
    assert "Require approval" in page and "waits as “Awaiting approval”" in page
    response = post_form(
        mia, url(team, "settings"), {"name": "  Acme Studio ", "approval_required": "on"}
    )
    assert response.status_code == 303
    workspace = Workspace.get_by_id(team["ws"].id)
    assert workspace.name == "Acme Studio" and workspace.approval_required
    assert workspace.slug == team["ws"].slug  # links keep working
    post_form(mia, url(team, "settings"), {"name": "Acme Studio"})
    assert not Workspace.get_by_id(team["ws"].id).approval_required


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": ""}, "Give the workspace a name."),
        ({"name": "   "}, "Give the workspace a name."),
        ({"name": "x" * 81}, "at most 80 characters"),
        ({"name": "Tab\there"}, "control characters"),
        ({"name": "Fine", "approval_required": "maybe"}, "either on (ticked) or off"),
    ],
)
def test_bad_settings_save_nothing(app, team, form, message):
    mia = signed_in(app, team["mia"])
    response = post_form(mia, url(team, "settings"), {**form})
    assert response.status_code == 422
    assert message in text(response)
    workspace = Workspace.get_by_id(team["ws"].id)
    assert workspace.name == team["ws"].name and not workspace.approval_required


# --- deleting a workspace ----------------------------------------------------------------------


def test_delete_is_refused_while_an_account_is_connected_or_a_post_is_on_its_way(app, team):
    mia = signed_in(app, team["mia"])
    account = Account.create(
        workspace=team["ws"].id, owner=team["mia"], open_id="o1", username="acme"
    )
    post = Post.create(
        workspace=team["ws"].id,
        author=team["ed"],
        status="scheduled",
        caption="Launch",
        scheduled_at=utcnow() + dt.timedelta(days=1),
    )
    page = text(mia.get(url(team, "delete")))
    assert "disconnect it at Accounts first" in page and "@acme" in page
    assert "cancel it, or let it finish, first" in page and "Launch" in page
    assert 'name="name"' not in page
    response = post_form(
        mia, url(team, "delete"), {"name": team["ws"].name}, token_from=url(team, "settings")
    )
    assert response.status_code == 409
    assert Workspace.get_or_none(Workspace.id == team["ws"].id) is not None
    # Disconnected and cancelled: nothing blocks it any more.
    Account.update(status="disconnected").where(Account.id == account.id).execute()
    Post.update(status="cancelled").where(Post.id == post.id).execute()
    assert 'name="name"' in text(mia.get(url(team, "delete")))


@pytest.mark.parametrize("status", ["publishing", "awaiting_approval"])
def test_delete_is_refused_with_a_post_publishing_or_awaiting_approval(team, status):
    Post.create(workspace=team["ws"].id, author=team["ed"], status=status)
    with pytest.raises(members.RuleError, match="scheduled, publishing or awaiting approval"):
        members.delete_workspace(team["ws"], team["ws"].name, "/nonexistent")


@pytest.mark.parametrize("typed", ["", "wrong", "MIA MANAGER'S WORKSPACE"])
def test_delete_needs_the_workspaces_name(app, team, typed):
    mia = signed_in(app, team["mia"])
    response = post_form(mia, url(team, "delete"), {"name": typed})
    assert response.status_code == 422
    assert "Type the workspace's name exactly as shown" in text(response)
    assert Workspace.get_or_none(Workspace.id == team["ws"].id) is not None


def test_deleting_removes_everything_in_it_and_home_lists_workspaces(app, team):
    workspace = team["ws"]
    root = Path(app.config["MEDIA_ROOT"])
    root.mkdir(parents=True, exist_ok=True)
    (root / "clip.mp4").write_bytes(b"video")
    (root / "covers" / "clip.mp4").mkdir(parents=True)
    media = Media.create(
        workspace=workspace.id,
        owner=team["ed"],
        kind="video",
        original_name="clip.mp4",
        stored_name="clip.mp4",
    )
    account = Account.create(
        workspace=workspace.id, owner=team["mia"], open_id="o1", status="disconnected"
    )
    post = Post.create(workspace=workspace.id, author=team["ed"], status="published")
    PostMedia.create(post=post, media=media)
    PostTarget.create(post=post, account=account, status="published")
    Notification.create(user=team["mia"], workspace=workspace.id, kind="x", message="m")
    invitations.invite(workspace, "new@example.com", "editor", team["mia"])
    others = Workspace.select().where(Workspace.id != workspace.id).count()

    ed = signed_in(app, team["ed"])
    mia = signed_in(app, team["mia"])
    assert "1 post with their history, 1 media file" in mia.get(url(team, "delete")).get_data(
        as_text=True
    )
    response = post_form(mia, url(team, "delete"), {"name": workspace.name})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert Workspace.get_or_none(Workspace.id == workspace.id) is None
    assert Post.select().count() == PostTarget.select().count() == PostMedia.select().count() == 0
    assert Media.select().count() == Account.select().count() == Invitation.select().count() == 0
    assert Notification.select().where(Notification.workspace == workspace.id).count() == 0
    assert Workspace.select().count() == others
    assert not (root / "clip.mp4").exists() and not (root / "covers" / "clip.mp4").exists()
    # Mia has no workspace left: home shows the workspaces page, with the message.
    home = text(mia.get("/", follow_redirects=True))
    assert "is deleted, with its posts, media and accounts" in home
    assert "You aren't in any workspace yet." in home
    # Ed still has his own; the deleted one is gone for him too.
    assert ed.get(url(team, "posts/")).status_code == 404


# --- Admin Console → Users --------------------------------------------------------------------


@pytest.fixture
def admin_of(app, team):
    admin = make_user("root@example.com", "admin", name="Root Admin")
    return signed_in(app, admin)


def test_admin_adds_a_person_to_an_existing_workspace(admin_of, team):
    page = text(admin_of.get("/admin/users"))
    assert "Their own new workspace" in page and team["ws"].name in page
    response = post_form(
        admin_of,
        "/admin/users",
        {
            "email": "tess@example.com",
            "name": "Tess",
            "role": "member",
            "password": PASSWORD,
            "workspace": str(team["ws"].id),
            "workspace_role": "viewer",
        },
    )
    assert response.status_code == 303
    tess = User.by_email("tess@example.com")
    assert role_in(team, tess) == "viewer"
    assert Membership.select().where(Membership.user == tess.id).count() == 1


def test_admin_adds_a_person_with_their_own_workspace_by_default(admin_of):
    response = post_form(
        admin_of,
        "/admin/users",
        {
            "email": "sol@example.com",
            "name": "Sol",
            "role": "member",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    sol = User.by_email("sol@example.com")
    own = members.default_for(sol)
    assert own.name == "Sol's workspace" and members.role_of(sol, own) == Role.MANAGER


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"workspace": "999999"}, "Choose one of the workspaces listed"),
        ({"workspace": "abc"}, "Choose one of the workspaces listed"),
        ({"workspace": "WS", "workspace_role": "owner"}, "Choose a role"),
    ],
)
def test_admin_bad_workspace_choices_save_nothing(admin_of, team, extra, message):
    if extra.get("workspace") == "WS":
        extra = {**extra, "workspace": str(team["ws"].id)}
    response = post_form(
        admin_of,
        "/admin/users",
        {
            "email": "bad@example.com",
            "role": "member",
            "password": PASSWORD,
            **extra,
        },
    )
    assert response.status_code == 400
    assert message in text(response)
    assert User.by_email("bad@example.com") is None


def test_csrf_is_required_on_the_invitation_form(app, team):
    token = make_invitation(team)
    client = app.test_client()
    client.get(f"/invite/{token}")
    response = client.post(f"/invite/{token}", data={"name": "Nia", "password": PASSWORD})
    assert response.status_code == 400
    assert User.by_email("new@example.com") is None
    assert csrf_token(client, f"/invite/{token}")
