"""The composer module against every line of spec/direct-post-ux.md, then hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.tiktok import rules as c
from webapp.tiktok.rules import Choices, Creator, MediaFacts, decide

PUBLIC = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
PRIVATE = ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
MAYA = Creator(
    nickname="Maya Rivers", username="maya.rivers", privacy_options=PUBLIC, max_duration_sec=600
)
VIDEO = MediaFacts(kind="video", duration_ms=30_000)
PHOTOS = MediaFacts(kind="photo", count=3)


UNTOUCHED = Choices()


def run(
    choices=UNTOUCHED,
    creator=MAYA,
    media=VIDEO,
    post_type="video",
    share_type="direct_post",
    audited=True,
):
    return decide(
        creator=creator,
        media=media,
        post_type=post_type,
        share_type=share_type,
        audited=audited,
        choices=choices,
    )


VALID = Choices(privacy="PUBLIC_TO_EVERYONE", caption="Hello #cadence")


# --- Point 1: fresh creator info ---------------------------------------------------------------


def test_1a_the_nickname_is_part_of_the_decision():
    assert run().creator.nickname == "Maya Rivers"


@pytest.mark.parametrize(
    "code",
    ["spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"],
)
def test_1b_a_creator_who_cant_post_blocks_publishing_and_says_try_later(code):
    d = run(VALID, creator=Creator(nickname="Omar", privacy_options=PUBLIC, cant_post=code))
    assert not d.allowed and d.blocked.endswith("Please try again later.")
    assert not d.shows_form


def test_1b_no_creator_info_blocks_too():
    d = run(VALID, creator=None)
    assert not d.allowed and "try again" in d.blocked


def test_1c_a_video_over_the_limit_is_refused_with_the_limit_and_the_excess():
    d = run(
        VALID,
        media=MediaFacts(kind="video", duration_ms=61_200),
        creator=Creator(nickname="Lena", privacy_options=PUBLIC, max_duration_sec=60),
    )
    assert not d.allowed
    assert "This video is 2 s longer than this account's limit of 60 s." in d.hover


def test_1c_exactly_at_the_limit_is_fine():
    d = run(
        VALID,
        media=MediaFacts(kind="video", duration_ms=60_000),
        creator=Creator(nickname="Lena", privacy_options=PUBLIC, max_duration_sec=60),
    )
    assert d.allowed


# --- Point 2: metadata ---------------------------------------------------------------------------


def test_2a_the_caption_is_sent_as_typed():
    assert (
        run(Choices(privacy="SELF_ONLY", caption="#tag @friend")).post_info["title"]
        == "#tag @friend"
    )


@pytest.mark.parametrize(
    ("options", "labels"),
    [
        (PUBLIC, ["Everyone", "Friends", "Only me"]),
        (PRIVATE, ["Followers", "Friends", "Only me"]),
    ],
)
def test_2b_privacy_options_are_exactly_the_creators_with_human_labels(options, labels):
    d = run(creator=Creator(nickname="x", privacy_options=options))
    assert [o.value for o in d.privacy] == list(options)
    assert [o.label for o in d.privacy] == labels
    assert c.PRIVACY_FIELD_LABEL == "Who can view this video"


def test_2b_no_default_privacy_and_nothing_posts_until_chosen():
    d = run(Choices(caption="hi"))
    assert not any(o.selected for o in d.privacy)
    assert not d.allowed and d.hover == "Choose who can view this video."


def test_2b_a_privacy_not_offered_is_refused():
    d = run(Choices(privacy="FOLLOWER_OF_CREATOR"))
    assert not d.allowed and "isn't available" in d.hover


def test_2c_interactions_are_unchecked_by_default_and_sent_disabled():
    d = run(VALID)
    assert [(t.label, t.checked) for t in d.interactions] == [
        ("Allow Comment", False),
        ("Allow Duet", False),
        ("Allow Stitch", False),
    ]
    assert (
        d.post_info["disable_comment"],
        d.post_info["disable_duet"],
        d.post_info["disable_stitch"],
    ) == (True, True, True)


def test_2c_the_api_gets_the_inverse_of_allow():
    d = run(Choices(privacy="SELF_ONLY", allow_comment=True, allow_stitch=True))
    assert (
        d.post_info["disable_comment"],
        d.post_info["disable_duet"],
        d.post_info["disable_stitch"],
    ) == (False, True, False)


@pytest.mark.parametrize(
    ("flag", "name"),
    [
        ("comment_disabled", "allow_comment"),
        ("duet_disabled", "allow_duet"),
        ("stitch_disabled", "allow_stitch"),
    ],
)
def test_2c_what_the_creator_disabled_is_greyed_and_a_crafted_tick_refused(flag, name):
    creator = Creator(nickname="K", privacy_options=PRIVATE, **{flag: True})
    shown = {t.name: t for t in run(creator=creator).interactions}
    assert shown[name].disabled and shown[name].reason and not shown[name].checked
    crafted = run(Choices(privacy="SELF_ONLY", **{name: True}), creator=creator)
    assert not crafted.allowed and "turned off for this account" in crafted.hover


def test_2c_photo_posts_show_only_allow_comment():
    d = run(Choices(privacy="SELF_ONLY"), media=PHOTOS, post_type="photo")
    assert [t.label for t in d.interactions] == ["Allow Comment"]
    assert "disable_duet" not in d.post_info and "disable_stitch" not in d.post_info


# --- Point 3: commercial content disclosure ----------------------------------------------------


def test_3a_disclosure_is_off_by_default_with_no_label():
    d = run(VALID)
    assert d.disclosure.label == "Disclose post content" and not d.disclosure.checked
    assert d.your_brand is None and d.branded_content is None and d.label == ""


def test_3a_turning_it_on_shows_both_boxes_unchecked_and_blocks_with_the_required_hover():
    d = run(Choices(privacy="PUBLIC_TO_EVERYONE", disclose=True))
    assert (d.your_brand.label, d.your_brand.checked) == ("Your brand", False)
    assert (d.branded_content.label, d.branded_content.checked) == ("Branded content", False)
    assert not d.allowed
    assert (
        d.hover == "You need to indicate if your content promotes yourself, a third party, or both."
    )


@pytest.mark.parametrize(
    ("your_brand", "branded", "label", "declaration"),
    [
        (
            True,
            False,
            "Your photo/video will be labeled as 'Promotional content'",
            "By posting, you agree to TikTok's Music Usage Confirmation.",
        ),
        (
            False,
            True,
            "Your photo/video will be labeled as 'Paid partnership'",
            c.DECLARATION_BRANDED,
        ),
        (
            True,
            True,
            "Your photo/video will be labeled as 'Paid partnership'",
            c.DECLARATION_BRANDED,
        ),
    ],
)
def test_3a_labels_and_4_declarations(your_brand, branded, label, declaration):
    d = run(
        Choices(
            privacy="PUBLIC_TO_EVERYONE",
            disclose=True,
            your_brand=your_brand,
            branded_content=branded,
        )
    )
    assert d.allowed and d.label == label and d.declaration == declaration
    assert (d.post_info["brand_organic_toggle"], d.post_info["brand_content_toggle"]) == (
        your_brand,
        branded,
    )


def test_3a_ticked_boxes_without_the_toggle_show_no_label_and_send_nothing():
    d = run(Choices(privacy="PUBLIC_TO_EVERYONE", your_brand=True, branded_content=True))
    assert d.label == "" and d.declaration == c.DECLARATION_DEFAULT
    assert (
        d.post_info["brand_organic_toggle"] is False
        and d.post_info["brand_content_toggle"] is False
    )


def test_3b_only_me_disables_branded_content_with_an_explanation():
    d = run(Choices(privacy="SELF_ONLY", disclose=True))
    assert d.branded_content.disabled and "can't be private" in d.branded_content.reason


def test_3b_branded_content_disables_only_me_with_the_required_hover():
    d = run(Choices(disclose=True, branded_content=True))
    only_me = next(o for o in d.privacy if o.value == "SELF_ONLY")
    assert (
        only_me.disabled
        and only_me.reason == "Branded content visibility cannot be set to private."
    )
    assert all(not o.disabled for o in d.privacy if o.value != "SELF_ONLY")


def test_3b_a_crafted_branded_and_private_post_is_refused():
    d = run(Choices(privacy="SELF_ONLY", disclose=True, branded_content=True))
    assert not d.allowed and c.BRANDED_NOT_PRIVATE in d.errors


# --- Point 4: declaration ------------------------------------------------------------------------


def test_4_declaration_links():
    d = run(Choices(privacy="PUBLIC_TO_EVERYONE", disclose=True, branded_content=True))
    assert d.declaration == (
        "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
    )
    assert [(link.text, link.url) for link in d.declaration_links] == [
        ("Branded Content Policy", "https://www.tiktok.com/legal/page/global/bc-policy/en"),
        (
            "Music Usage Confirmation",
            "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en",
        ),
    ]
    plain = run(VALID)
    assert plain.declaration == "By posting, you agree to TikTok's Music Usage Confirmation."
    assert [link.text for link in plain.declaration_links] == ["Music Usage Confirmation"]


# --- Point 5 and the rest ------------------------------------------------------------------------


def test_5d_the_processing_notice_wording():
    assert c.PROCESSING_NOTICE.startswith("It can take a few minutes for your post to be processed")


@pytest.mark.parametrize(
    ("choices", "post_type", "message"),
    [
        (
            Choices(privacy="SELF_ONLY", caption="x" * 2201),
            "video",
            "The caption is 1 character too long",
        ),
        (
            Choices(privacy="SELF_ONLY", caption="😀" * 1101),
            "video",
            "The caption is 2 characters too long",
        ),
        (
            Choices(privacy="SELF_ONLY", caption="t" * 91),
            "photo",
            "The title is 1 character too long",
        ),
        (Choices(privacy="SELF_ONLY", description="d" * 4001), "photo", "The description is 1"),
    ],
)
def test_caption_limits_count_utf16_units(choices, post_type, message):
    media = PHOTOS if post_type == "photo" else VIDEO
    d = run(choices, media=media, post_type=post_type)
    assert not d.allowed and any(e.startswith(message) for e in d.errors)


def test_2200_emoji_units_is_the_limit_exactly():
    assert run(Choices(privacy="SELF_ONLY", caption="😀" * 1100)).allowed


@pytest.mark.parametrize(
    ("media", "post_type", "message"),
    [
        (None, "video", "Choose a video to post."),
        (MediaFacts(kind="photo"), "video", "Video posts need a video."),
        (MediaFacts(kind="photo", count=36), "photo", "A photo post has 1 to 35 photos."),
        (
            MediaFacts(
                kind="video", duration_ms=1000, problems=("Frame rate 15 fps is below 23.",)
            ),
            "video",
            "Frame rate 15 fps is below 23.",
        ),
    ],
)
def test_media_problems_block(media, post_type, message):
    d = run(Choices(privacy="SELF_ONLY"), media=media, post_type=post_type)
    assert not d.allowed and message in d.errors


def test_draft_share_type_shows_only_what_applies():
    d = run(Choices(privacy="PUBLIC_TO_EVERYONE", allow_comment=True), share_type="inbox")
    assert not d.shows_form and d.privacy == [] and d.interactions == [] and d.disclosure is None
    assert "finishes the post" in d.notes[0]
    assert d.allowed and d.post_info == {}


@pytest.mark.parametrize("options", [PUBLIC, PRIVATE])
def test_unaudited_mode_shows_the_creators_full_list_with_no_default_and_the_note(options):
    creator = Creator(nickname="Kenji", privacy_options=options, max_duration_sec=600)
    d = run(UNTOUCHED, creator=creator, audited=False)
    assert [o.value for o in d.privacy] == list(options)
    assert not any(o.selected or o.disabled for o in d.privacy)
    assert d.notes == ["Until TikTok audits this app, it accepts only “Only me” posts."]
    assert d.notes[0] == c.UNAUDITED_NOTE
    assert run(UNTOUCHED, creator=creator, audited=True).notes == []


@pytest.mark.parametrize("privacy", ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS"])
def test_unaudited_mode_refuses_anything_but_only_me_with_the_reason(privacy):
    d = run(Choices(privacy=privacy), audited=False)
    assert not d.allowed and d.post_info is None
    assert d.errors == [c.UNAUDITED_REFUSED] and d.hover == c.UNAUDITED_REFUSED
    assert d.hover.startswith("Until TikTok audits this app, it accepts only “Only me” posts.")
    assert run(Choices(privacy=privacy), audited=True).allowed


def test_unaudited_mode_posts_only_me():
    d = run(Choices(privacy="SELF_ONLY", allow_comment=True), audited=False)
    assert d.allowed and d.post_info["privacy_level"] == "SELF_ONLY"


def test_unaudited_mode_keeps_every_interaction():
    """2c, 3a, 3b and 4 behave as when audited, so a recording can show them all."""
    kenji = Creator(
        nickname="Kenji", privacy_options=PRIVATE, duet_disabled=True, stitch_disabled=True
    )
    greyed = run(UNTOUCHED, creator=kenji, audited=False).interactions
    assert [(t.label, t.disabled) for t in greyed] == [
        ("Allow Comment", False),
        ("Allow Duet", True),
        ("Allow Stitch", True),
    ]
    on = run(Choices(disclose=True), audited=False)
    assert on.your_brand and not on.branded_content.checked and on.hover == c.NEED_DISCLOSURE_CHOICE
    branded = run(
        Choices(privacy="MUTUAL_FOLLOW_FRIENDS", disclose=True, branded_content=True),
        audited=False,
    )
    only_me = next(o for o in branded.privacy if o.value == "SELF_ONLY")
    assert only_me.disabled and only_me.reason == c.BRANDED_NOT_PRIVATE
    assert branded.label == c.LABEL_PAID and branded.declaration == c.DECLARATION_BRANDED
    assert branded.errors == [c.UNAUDITED_REFUSED]
    private = run(Choices(privacy="SELF_ONLY", disclose=True), audited=False)
    assert private.branded_content.disabled
    assert private.branded_content.reason == c.BRANDED_DISABLED_BY_PRIVATE
    brand = run(Choices(privacy="SELF_ONLY", disclose=True, your_brand=True), audited=False)
    assert brand.allowed and brand.label == c.LABEL_PROMOTIONAL
    assert brand.declaration == c.DECLARATION_DEFAULT


# The publish buttons' hover: TikTok's disclosure sentence whenever it applies (3a), whatever
# else is missing; otherwise the first problem. Every problem is still listed (errors).
@pytest.mark.parametrize(
    "choices, media, audited, hover, also_listed",
    [
        (Choices(disclose=True), VIDEO, True, c.NEED_DISCLOSURE_CHOICE, "Choose who can view"),
        (Choices(disclose=True), None, True, c.NEED_DISCLOSURE_CHOICE, "Choose a video"),
        (
            Choices(privacy="PUBLIC_TO_EVERYONE", disclose=True, caption="x" * 2201),
            VIDEO,
            True,
            c.NEED_DISCLOSURE_CHOICE,
            "caption is 1 character too long",
        ),
        (
            Choices(privacy="PUBLIC_TO_EVERYONE", disclose=True),
            VIDEO,
            False,
            c.NEED_DISCLOSURE_CHOICE,
            "Until TikTok audits this app",
        ),
        (
            Choices(privacy="PUBLIC_TO_EVERYONE", disclose=True),
            VIDEO,
            True,
            c.NEED_DISCLOSURE_CHOICE,
            "",
        ),
        (UNTOUCHED, VIDEO, True, "Choose who can view this video.", ""),
        (
            Choices(disclose=True, your_brand=True),
            None,
            True,
            "Choose a video to post.",
            "Choose who",
        ),
        (Choices(privacy="PUBLIC_TO_EVERYONE"), VIDEO, False, c.UNAUDITED_REFUSED, ""),
        (Choices(privacy="SELF_ONLY", disclose=True, your_brand=True), VIDEO, True, "", ""),
    ],
)
def test_publish_hover_priority(choices, media, audited, hover, also_listed):
    d = run(choices, media=media, audited=audited)
    assert d.hover == hover
    assert c.hover_text(d.errors) == hover
    if also_listed:
        assert any(also_listed in e for e in d.errors) and len(d.errors) >= 2
    assert d.allowed == (hover == "")


def test_hover_text_of_several_accounts_prefers_tiktoks_sentence():
    assert c.hover_text([]) == ""
    assert c.hover_text(["@a: Choose a video.", c.NEED_DISCLOSURE_CHOICE]) == (
        c.NEED_DISCLOSURE_CHOICE
    )
    assert c.hover_text(["Choose a video.", "Another."]) == "Choose a video."


def test_video_post_info_has_every_boolean_and_the_cover():
    d = run(Choices(privacy="PUBLIC_TO_EVERYONE", is_aigc=True, cover_timestamp_ms=1500))
    assert d.post_info == {
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "title": "",
        "disable_comment": True,
        "disable_duet": True,
        "disable_stitch": True,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "is_aigc": True,
        "video_cover_timestamp_ms": 1500,
    }
    assert d.aigc.label == "AI-generated content" and d.aigc.checked


# --- Properties: no input yields a post_info that breaks a rule ----------------------------------

creators = st.builds(
    Creator,
    nickname=st.text(max_size=10),
    privacy_options=st.sampled_from([PUBLIC, PRIVATE, ("SELF_ONLY",), ()]),
    comment_disabled=st.booleans(),
    duet_disabled=st.booleans(),
    stitch_disabled=st.booleans(),
    max_duration_sec=st.sampled_from([0, 60, 300, 600]),
    cant_post=st.sampled_from(["", "", "", "spam_risk_too_many_posts"]),
)
choice_sets = st.builds(
    Choices,
    privacy=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "",
                "PUBLIC_TO_EVERYONE",
                "MUTUAL_FOLLOW_FRIENDS",
                "FOLLOWER_OF_CREATOR",
                "SELF_ONLY",
                "BOGUS",
            ]
        ),
    ),
    allow_comment=st.booleans(),
    allow_duet=st.booleans(),
    allow_stitch=st.booleans(),
    disclose=st.booleans(),
    your_brand=st.booleans(),
    branded_content=st.booleans(),
    is_aigc=st.booleans(),
    caption=st.text(max_size=2300),
    description=st.text(max_size=50),
    cover_timestamp_ms=st.one_of(st.none(), st.integers(-5, 10_000)),
)
medias = st.one_of(
    st.none(),
    st.builds(
        MediaFacts,
        kind=st.sampled_from(["video", "photo"]),
        duration_ms=st.one_of(st.none(), st.integers(0, 700_000)),
        count=st.integers(0, 40),
        problems=st.sampled_from([(), ("broken",)]),
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    creator=st.one_of(st.none(), creators),
    choices=choice_sets,
    media=medias,
    post_type=st.sampled_from(["video", "photo"]),
    audited=st.booleans(),
)
def test_no_input_yields_a_post_that_breaks_a_rule(creator, choices, media, post_type, audited):
    d = decide(
        creator=creator,
        media=media,
        post_type=post_type,
        share_type="direct_post",
        audited=audited,
        choices=choices,
    )
    assert d.allowed == (not d.errors)
    info = d.post_info
    if info is None:
        return
    assert creator is not None and not creator.cant_post
    assert info["privacy_level"] in creator.privacy_options
    assert audited or info["privacy_level"] == "SELF_ONLY"
    assert not (info["brand_content_toggle"] and info["privacy_level"] == "SELF_ONLY")
    if choices.disclose:
        assert info["brand_content_toggle"] or info["brand_organic_toggle"]
    else:
        assert not info["brand_content_toggle"] and not info["brand_organic_toggle"]
    if creator.comment_disabled:
        assert info["disable_comment"] is True
    limit = c.MAX_PHOTO_TITLE if post_type == "photo" else c.MAX_CAPTION
    assert c.utf16_len(info["title"]) <= limit
    assert media is not None and media.kind == post_type and not media.problems
    if post_type == "video":
        assert creator.duet_disabled is False or info["disable_duet"] is True
        assert creator.stitch_disabled is False or info["disable_stitch"] is True
        assert all(
            isinstance(info[k], bool)
            for k in (
                "disable_comment",
                "disable_duet",
                "disable_stitch",
                "brand_content_toggle",
                "brand_organic_toggle",
                "is_aigc",
            )
        )
        if creator.max_duration_sec and media.duration_ms is not None:
            assert media.duration_ms <= creator.max_duration_sec * 1000
    else:
        assert "disable_duet" not in info and 1 <= media.count <= c.MAX_PHOTOS
