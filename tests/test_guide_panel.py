"""The reviewer's Guide panel, shown only to the demo user."""

from __future__ import annotations

from tests.conftest import csrf_token, login, make_user
from webapp.auditkit.guide import STEPS
from webapp.models import AuditKit


def demo_user(db):
    user = make_user("reviewer@example.com", role="admin")
    kit = AuditKit.load()
    kit.demo_email = "Reviewer@example.com"
    kit.save()
    return user


def test_only_the_demo_user_sees_the_panel(client, admin_client, db):
    demo_user(db)
    assert 'aria-label="Guide"' not in admin_client.get("/").get_data(as_text=True)
    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/")})
    login(client, "reviewer@example.com")
    page = client.get("/").get_data(as_text=True)
    assert 'aria-label="Guide"' in page
    assert f"step 2 of {len(STEPS)}" in page and STEPS[1].action in page
    assert f'data-label="{STEPS[1].label}"' in page


def test_next_back_and_close(client, db):
    demo_user(db)
    login(client, "reviewer@example.com")
    token = csrf_token(client, "/")
    client.post(
        "/guide/next", data={"csrf_token": token}, headers={"Referer": "http://localhost/posts/"}
    )
    assert STEPS[2].action in client.get("/").get_data(as_text=True)
    client.post("/guide/back", data={"csrf_token": token})
    assert STEPS[1].action in client.get("/").get_data(as_text=True)
    for _ in range(len(STEPS) + 3):  # never runs past the last step
        client.post("/guide/next", data={"csrf_token": token})
    assert STEPS[-1].action in client.get("/").get_data(as_text=True)
    response = client.post(
        "/guide/close", data={"csrf_token": token}, headers={"Referer": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"  # never back to another site
    assert 'aria-label="Guide"' not in client.get("/").get_data(as_text=True)


def test_the_panel_follows_the_reviewer_by_itself(client, db):
    demo_user(db)
    login(client, "reviewer@example.com")
    client.get("/accounts/")
    page = client.get("/accounts/").get_data(as_text=True)
    assert STEPS[2].action in page  # "Add Account" is next
    client.get("/compose/")
    create_next = next(i for i, s in enumerate(STEPS) if s.arrives == "composer.create") + 1
    assert STEPS[create_next].action in client.get("/compose/").get_data(as_text=True)
    client.get("/accounts/")  # going back doesn't move the panel backwards
    assert STEPS[create_next].action in client.get("/").get_data(as_text=True)


def test_the_panel_follows_the_audited_variant_once_services_says_so(client, db):
    from webapp.auditkit.guide import steps
    from webapp.models import TikTokService

    demo_user(db)
    login(client, "reviewer@example.com")
    assert f"step 2 of {len(steps(False))}" in client.get("/").get_data(as_text=True)
    service = TikTokService.load()
    service.audited = True
    service.save()
    assert len(steps(True)) != len(steps(False))
    assert f"step 2 of {len(steps(True))}" in client.get("/").get_data(as_text=True)
