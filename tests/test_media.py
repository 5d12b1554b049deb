"""The Media area: streaming upload, probing, the list, previews, conversion and guarded delete."""

from __future__ import annotations

import io
from pathlib import Path

from tests.conftest import csrf_token, home, login, make_user, post_form
from tests.test_mediafacts import files  # noqa: F401 - the generated sample files
from webapp.models import Media, Post, PostMedia


def upload(client, *paths_and_names, htmx=False):
    token = csrf_token(client, "/media/")
    data = {"files": [(io.BytesIO(Path(p).read_bytes()), name) for p, name in paths_and_names]}
    headers = {"X-CSRFToken": token}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(
        "/media/upload", data=data, headers=headers, content_type="multipart/form-data"
    )


def test_upload_probes_and_lists_each_file(admin_client, files, app):  # noqa: F811
    reply = upload(admin_client, (files["good"], "holiday.mp4"), (files["png"], "screen.png"))
    assert reply.status_code == 303
    page = admin_client.get("/media/").get_data(as_text=True)
    assert "Uploaded holiday.mp4, screen.png. 1 of them break a TikTok rule" in page
    assert "720×1280" in page and "h264 / aac" in page and "✓ Meets them" in page
    assert "TikTok takes JPEG or WebP photos; this one is PNG." in page
    video = Media.get(Media.original_name == "holiday.mp4")
    stored = Path(app.config["MEDIA_ROOT"]) / video.stored_name
    assert stored.read_bytes() == files["good"].read_bytes()
    assert video.stored_name.endswith(".mp4") and "holiday" not in video.stored_name
    assert not list((Path(app.config["MEDIA_ROOT"]) / "incoming").iterdir())  # temp files gone


def test_htmx_upload_answers_with_a_redirect_header(admin_client, files):  # noqa: F811
    reply = upload(admin_client, (files["jpeg"], "ok.jpg"), htmx=True)
    assert (
        reply.status_code == 200
        and reply.headers["HX-Redirect"] == "/w/ada-admins-workspace/media/"
    )


def test_files_are_judged_by_content_not_name(admin_client, files):  # noqa: F811
    upload(admin_client, (files["renamed_text"], "video.mp4"), (files["truncated"], "cut.mp4"))
    page = admin_client.get("/media/").get_data(as_text=True)
    assert "Not uploaded: video.mp4: This file isn&#39;t a video or image that can be read" in page
    assert (
        Media.get(Media.original_name == "cut.mp4")
        .problems[0]
        .startswith("This video file is incomplete or damaged")
    )


def test_path_tricks_in_names_are_only_display_text(admin_client, files, app):  # noqa: F811
    upload(admin_client, (files["jpeg"], "../../etc/passwd.jpg"))
    media = Media.get()
    assert media.original_name == "passwd.jpg"
    assert (Path(app.config["MEDIA_ROOT"]) / media.stored_name).is_file()


def test_no_files_chosen_is_explained(admin_client):
    token = csrf_token(admin_client, "/media/")
    reply = admin_client.post("/media/upload", data={"csrf_token": token}, follow_redirects=True)
    assert "Choose one or more videos or photos to upload." in reply.get_data(as_text=True)


def test_a_body_over_the_limit_is_refused_while_streaming(admin_client, monkeypatch):
    from webapp.media import storage

    monkeypatch.setattr(storage, "MAX_UPLOAD_BYTES", 10_000)
    token = csrf_token(admin_client, "/media/")
    reply = admin_client.post(
        "/media/upload",
        headers={"X-CSRFToken": token},
        data={"files": [(io.BytesIO(b"x" * 50_000), "big.mp4")]},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 413
    assert Media.select().count() == 0


def test_preview_supports_ranges_and_nosniff(admin_client, files):  # noqa: F811
    upload(admin_client, (files["good"], "clip.mp4"))
    media = Media.get()
    reply = admin_client.get(f"/media/{media.id}/file", headers={"Range": "bytes=0-99"})
    assert reply.status_code == 206 and len(reply.data) == 100
    assert reply.headers["Content-Type"] == "video/mp4"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_other_users_media_is_404(app, admin_client, files):  # noqa: F811
    upload(admin_client, (files["good"], "mine.mp4"))
    media = Media.get()
    make_user("peer@example.com")
    other = app.test_client()
    login(other, "peer@example.com")
    for path in (f"/media/{media.id}/file", f"/media/{media.id}/delete"):
        assert other.get(path).status_code == 404


def test_png_and_oversized_photos_get_a_converted_copy_with_consent(admin_client, files):  # noqa: F811
    upload(admin_client, (files["png"], "screen.png"), (files["big_jpeg"], "huge.jpg"))
    for media in list(Media.select()):
        done = post_form(
            admin_client, f"/media/{media.id}/convert", token_from="/media/", follow_redirects=True
        )
        assert "Made a TikTok-ready copy" in done.get_data(as_text=True)
    copies = Media.select().where(Media.original_name.endswith("(for TikTok).jpg"))
    assert sorted(c.original_name for c in copies) == [
        "huge (for TikTok).jpg",
        "screen (for TikTok).jpg",
    ]
    for copy in copies:
        assert (
            copy.container == "jpeg"
            and copy.problems == []
            and max(copy.width, copy.height) <= 1080
        )
    assert Media.select().count() == 4  # originals kept


def test_delete_is_refused_while_a_scheduled_post_uses_the_file(admin_client, files, admin):  # noqa: F811
    upload(admin_client, (files["good"], "launch.mp4"))
    media = Media.get()
    post = Post.create(
        workspace=home(admin), author=admin, caption="Launch day", status="scheduled"
    )
    PostMedia.create(post=post, media=media)
    confirm = admin_client.get(f"/media/{media.id}/delete").get_data(as_text=True)
    assert "these posts still use it" in confirm and "Launch day" in confirm
    refused = post_form(admin_client, f"/media/{media.id}/delete", follow_redirects=True)
    assert "“launch.mp4” is used by “Launch day” (scheduled)" in refused.get_data(as_text=True)
    assert Media.get_by_id(media.id).status != "deleted"
    post.status = "published"
    post.save()
    done = post_form(admin_client, f"/media/{media.id}/delete", follow_redirects=True)
    assert "Deleted “launch.mp4”." in done.get_data(as_text=True)
    assert Media.get_by_id(media.id).status == "deleted"  # history keeps the row


def test_upload_refuses_a_missing_csrf_token(admin_client, files):  # noqa: F811
    reply = admin_client.post(
        "/media/upload",
        data={"files": [(io.BytesIO(files["jpeg"].read_bytes()), "a.jpg")]},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400
    assert Media.select().count() == 0


def test_a_converted_photo_is_re_encoded_without_its_exif_location(admin_client, tmp_path):
    from PIL import Image

    original = tmp_path / "beach.jpg"
    exif = Image.Exif()
    exif[0x010F] = "CameraMakerCo"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0)}  # GPS: latitude
    Image.new("RGB", (1600, 1200), "teal").save(original, exif=exif.tobytes())
    assert b"CameraMakerCo" in original.read_bytes()
    upload(admin_client, (original, "beach.jpg"))
    media = Media.get()
    post_form(admin_client, f"/media/{media.id}/convert", token_from="/media/")
    copy = Media.get(Media.original_name == "beach (for TikTok).jpg")
    data = (Path(admin_client.application.config["MEDIA_ROOT"]) / copy.stored_name).read_bytes()
    assert data[:2] == b"\xff\xd8" and data != original.read_bytes()
    assert b"Exif" not in data and b"CameraMakerCo" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) == 1080 and not image.getexif()
