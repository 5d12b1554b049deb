"""Media is judged by probing real files with ffmpeg, never by their names."""

from __future__ import annotations

import pytest

from tests.conftest import ffmpeg_sample as make
from webapp.mediafacts import photo_problems, probe, video_problems


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    src = "testsrc2=size={size}:rate={rate}:duration={dur}"
    out = {
        "good": make(
            d / "good.mp4",
            "-f",
            "lavfi",
            "-i",
            src.format(size="720x1280", rate=30, dur=3),
            "-f",
            "lavfi",
            "-i",
            "sine=duration=3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
        ),
        "slow": make(
            d / "slow.mp4",
            "-f",
            "lavfi",
            "-i",
            src.format(size="720x1280", rate=15, dur=2),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ),
        "tiny": make(
            d / "tiny.webm",
            "-f",
            "lavfi",
            "-i",
            src.format(size="320x240", rate=30, dur=1),
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "200k",
        ),
        "png": make(
            d / "shot.png",
            "-f",
            "lavfi",
            "-i",
            src.format(size="800x600", rate=1, dur=1),
            "-frames:v",
            "1",
        ),
        "big_jpeg": make(
            d / "big.jpg",
            "-f",
            "lavfi",
            "-i",
            src.format(size="1600x1200", rate=1, dur=1),
            "-frames:v",
            "1",
        ),
        "jpeg": make(
            d / "ok.jpg",
            "-f",
            "lavfi",
            "-i",
            src.format(size="864x1080", rate=1, dur=1),
            "-frames:v",
            "1",
        ),
        "webp": make(
            d / "ok.webp",
            "-f",
            "lavfi",
            "-i",
            src.format(size="1080x1080", rate=1, dur=1),
            "-frames:v",
            "1",
            "-c:v",
            "libwebp",
        ),
    }
    text = d / "notes.mp4"
    text.write_text("this is a text file with a video's name\n" * 50)
    out["renamed_text"] = text
    data = out["good"].read_bytes()
    (d / "cut.mp4").write_bytes(data[: len(data) // 2])
    out["truncated"] = d / "cut.mp4"
    return out


def test_a_good_video_reports_every_property(files):
    p = probe(files["good"])
    assert (p.kind, p.container, p.video_codec, p.audio_codec) == ("video", "mp4", "h264", "aac")
    assert (p.width, p.height, p.fps) == (720, 1280, 30.0)
    assert 2900 <= p.duration_ms <= 3100
    assert p.size_bytes == files["good"].stat().st_size
    assert video_problems(p) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("slow", "The frame rate is 15 fps; TikTok needs 23 to 60 fps."),
        ("tiny", "The width is 320 px; TikTok needs 360 to 4096 px on each side."),
        (
            "renamed_text",
            "This file isn't a video or image that can be read (whatever its name says).",
        ),
        ("truncated", "This video file is incomplete or damaged"),
        ("jpeg", "This is a photo, not a video."),
    ],
)
def test_video_rules(files, name, message):
    problems = video_problems(probe(files[name]))
    assert any(p.startswith(message) for p in problems), problems


def test_webm_vp9_is_recognised(files):
    p = probe(files["tiny"])
    assert (p.container, p.video_codec) == ("webm", "vp9")


@pytest.mark.parametrize("name", ["jpeg", "webp"])
def test_good_photos_pass(files, name):
    p = probe(files[name])
    assert p.kind == "photo" and photo_problems(p) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("png", "TikTok takes JPEG or WebP photos; this one is PNG."),
        ("big_jpeg", "The photo is 1600×1200 px; TikTok takes at most 1080 px."),
        ("renamed_text", "This file isn't a video or image that can be read"),
        ("good", "This is a video, not a photo."),
    ],
)
def test_photo_rules(files, name, message):
    problems = photo_problems(probe(files[name]))
    assert any(p.startswith(message) for p in problems), problems
