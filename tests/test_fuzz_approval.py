"""Fuzz the approval decision's free text (issue 17): sending a post back saves all or nothing.

The same hypothesis set-up as tests/test_fuzz_forms.py; the team (a workspace requiring
approval, with a connected sandbox account) is tests/test_approval.py's.
"""

# ruff: noqa: F811 - test_approval's fixtures are imported by name, as pytest finds them

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import csrf_token
from tests.test_approval import job_settings, service, submitted, team  # noqa: F401
from tests.test_fuzz_forms import (
    CSRF,
    HOSTILE,
    XSS,
    assert_refused,
    assert_storable,
    first,
    fuzz,
    has_nul,
    huge,
    rows,
    send,
    submissions,
    text,
)
from webapp.models import Notification, Post, PostEvent, PostTarget
from webapp.publishing.approval import NOTE_LIMIT

SEND_BACK = {
    "decision": st.just("send_back"),
    "comment": st.one_of(
        text(min_size=1, max_size=200), st.sampled_from(["Use the new logo shot.", XSS]), huge()
    ),
}
SEND_BACK_ODD = {
    "decision": st.one_of(st.sampled_from(["", "Send_back", "reject"]), HOSTILE),
    "comment": st.one_of(st.sampled_from(["", "   ", "\t\n"]), HOSTILE),
}


def test_send_back_saves_all_or_nothing(team, job_settings, db):
    # Approving publishes (tests/test_approval.py); sending back is the decision's free text.
    post = submitted(team, job_settings)
    client = team["clients"]["mona"]
    path = f"{team['base']}/approvals/{post.id}"
    token = csrf_token(client, path)
    models = (Post, PostTarget, PostEvent, Notification)
    outcomes = Counter()

    def reset():
        Post.update(status="awaiting_approval", review_note="").where(Post.id == post.id).execute()
        PostTarget.update(status="awaiting_approval").where(PostTarget.post == post.id).execute()
        PostEvent.delete().where(PostEvent.kind == "sent_back").execute()
        Notification.delete().where(Notification.kind == "post_sent_back").execute()

    @fuzz(40)
    @given(form=submissions(SEND_BACK, SEND_BACK_ODD, breaks=1), csrf=CSRF)
    def example(form, csrf):
        reset()
        before = rows(*models)
        reply = send(client, path, form, token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code != 303:
            if (
                csrf in ("missing", "bogus")
                or has_nul(form)
                or first(form, "decision") != ("send_back")
            ):
                assert reply.status_code == 400
            else:
                assert reply.status_code == 422
                comment = (first(form, "comment") or "").strip()
                message = "Write a comment" if not comment else f"within {NOTE_LIMIT} characters"
                assert_refused(reply, csrf, message, form)
            assert rows(*models) == before
            return
        saved = Post.get_by_id(post.id)
        assert (saved.status, saved.review_note) == ("draft", first(form, "comment").strip())
        assert [t.status for t in saved.targets] == ["draft"]
        assert_storable(*models)

    example()
    assert outcomes[303] and outcomes[422] and outcomes[400]
