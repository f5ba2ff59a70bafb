"""export-clip: a clip made ready to post. 1080×1920 H.264 + AAC whose length matches the
clip, the facecam of the frame on top in stack layout, captions in the caption band while a
word is said (and only then), SRT/VTT out and an edited SRT in, -14 LUFS, any codec in.

The facecam is a real face: the astronaut of scikit-image's data (Eileen Collins, NASA, public
domain; ``tests/data/astronaut-face.jpg``, cut from ``skimage/data/astronaut.png``). The
speech is JFK's (see ``test_words.py``).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip.cli import app
from kickclip.store.clip_manager import ClipManager

pytest.importorskip("faster_whisper", reason="the speech extra is installed by .ci/run")

DATA = Path(__file__).parent / "data"
FACE = DATA / "astronaut-face.jpg"
JFK = DATA / "jfk.m4a"
SIZE = (640, 360)
FACECAM = (456, 16, 168, 168)  # the overlay with its border, in the clip's pixels
FPS = 30
DURATION_S = 5.0
RATE = 48_000


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _face() -> np.ndarray:
    import cv2

    face = cv2.cvtColor(cv2.imread(str(FACE)), cv2.COLOR_BGR2RGB)
    _, _, w, h = FACECAM
    framed = np.full((h, w, 3), 235, dtype=np.uint8)  # the overlay's white border
    framed[4:-4, 4:-4] = cv2.resize(face, (w - 8, h - 8))
    return framed


def picture(n: int) -> np.ndarray:
    """Gameplay (a drifting gradient and a bright block that moves) with the facecam on top."""
    w, h = SIZE
    xs = np.linspace(0, 255, w)[None, :, None]
    frame = np.broadcast_to((xs + n * 3) % 256, (h, w, 3)).astype(np.uint8).copy()
    frame[..., 1] //= 2
    bx = 40 + (n * 6) % 300
    frame[220:300, bx : bx + 80] = (250, 60, 30)
    x, y, fw, fh = FACECAM
    frame[y : y + fh, x : x + fw] = FACE_PIXELS
    return frame


FACE_PIXELS = _face()


def speech(duration_s: float) -> np.ndarray:
    from kickclip.words.speech import read_audio

    voice = read_audio(str(JFK), 0.0, duration_s)  # 16 kHz
    return np.repeat(voice, 3)[: int(duration_s * RATE)]  # 48 kHz, crudely


def write_clip(path: Path, codecs: tuple[str, str] = ("libx264", "aac"), *, audio: bool = True):
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        video = out.add_stream(codecs[0], rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        if codecs[0] == "libx264":
            video.options = {"preset": "ultrafast"}
        sound = None
        if audio:
            sound = out.add_stream(codecs[1], rate=RATE)
            sound.layout = "mono"
        for n in range(int(DURATION_S * FPS)):
            frame = av.VideoFrame.from_ndarray(picture(n), format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            samples = (speech(DURATION_S) * 0.3).astype(np.float32)
            size = sound.codec_context.frame_size or 960
            for first in range(0, len(samples), size):
                chunk = samples[first : first + size]
                if len(chunk) < size:
                    chunk = np.pad(chunk, (0, size - len(chunk)))
                frame = av.AudioFrame.from_ndarray(
                    chunk.reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate, frame.pts, frame.time_base = RATE, first, Fraction(1, RATE)
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def stored_clip(workspace: Workspace, name: str = "clip.mp4", **kwargs) -> int:
    path = write_clip(workspace.root / "output_clips" / name, **kwargs)
    manager = ClipManager(workspace.db)
    return manager.register_clip(path, 100.0, 100.0 + DURATION_S, 0.7, "audio", {}, "vod.mp4")


def frames_at(path: str, times: list[float]) -> dict[float, np.ndarray]:
    wanted = sorted(times)
    found = {}
    with av.open(path) as source:
        for frame in source.decode(video=0):
            while wanted and frame.time >= wanted[0] - 1e-6:
                found[wanted.pop(0)] = frame.to_ndarray(format="rgb24")
            if not wanted:
                break
    return found


def describe(path: str) -> dict:
    with av.open(path) as source:
        video, sound = source.streams.video[0], source.streams.audio[0]
        frames = sum(1 for _ in source.decode(video))
        return {
            "video": video.codec_context.name,
            "audio": sound.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "fps": float(video.average_rate),
            "seconds": frames / float(video.average_rate),
        }


def lufs(path: str) -> float:
    import pyloudnorm

    with av.open(path) as source:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
        chunks = [
            c.to_ndarray().reshape(-1, 2)
            for f in source.decode(audio=0)
            for c in resampler.resample(f)
        ]
    return pyloudnorm.Meter(RATE).integrated_loudness(np.concatenate(chunks).astype(np.float64))


def cue_times(srt: str) -> tuple[list[float], list[float]]:
    """Times inside a cue, and times no cue covers (away from every cue's edges)."""
    import pysubs2

    cues = [(e.start / 1000, e.end / 1000) for e in pysubs2.load(srt)]
    grid = np.arange(0.2, DURATION_S - 0.2, 1 / FPS)
    spoken = [t for t in grid if any(a + 0.1 < t < b - 0.1 for a, b in cues)]
    silent = [t for t in grid if all(t < a - 0.15 or t > b + 0.15 for a, b in cues)]
    return spoken, silent


def test_stack_puts_the_facecam_on_top_with_captions_in_their_band(workspace: Workspace) -> None:
    clip_id = stored_clip(workspace)
    assert run("transcribe", str(clip_id)).exit_code == 0
    result = run("export-clip", str(clip_id), "--json")
    assert result.exit_code == 0, result.output
    (made,) = json.loads(result.stdout)["exports"]
    assert made["layout"] == "stack" and (made["width"], made["height"]) == (1080, 1920)
    x, y, w, h = made["facecam"]  # found: the face, grown to the overlay's border
    fx, fy, fw, fh = FACECAM
    overlap = max(0, min(x + w, fx + fw) - max(x, fx)) * max(0, min(y + h, fy + fh) - max(y, fy))
    assert overlap / (w * h + fw * fh - overlap) > 0.6, made["facecam"]
    facts = describe(made["filepath"])
    assert facts["video"] == "h264" and facts["audio"] == "aac" and facts["fps"] == FPS
    assert facts["size"] == (1080, 1920)
    assert abs(facts["seconds"] - DURATION_S) <= 0.1
    assert lufs(made["filepath"]) == pytest.approx(-14.0, abs=1.0)

    # The top of the frame is the facecam: the face is found there, large, and not below.
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    grey = cv2.cvtColor(frames_at(made["filepath"], [3.0])[3.0], cv2.COLOR_RGB2GRAY)
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(60, 60))
    assert len(faces) >= 1, "no face in the exported frame"
    for _x, top, _w, size in faces:
        assert top + size < 0.45 * 1920 and size > 250, faces

    # Captions: the band differs from an export without them exactly while words are said.
    plain = run("export-clip", str(clip_id), "--captions", "none", "--dest", "plain", "--json")
    assert plain.exit_code == 0, plain.output
    (bare,) = json.loads(plain.stdout)["exports"]
    assert bare["captions"] is None and not list(Path("plain").glob("*.srt"))
    spoken, silent = cue_times(made["captions"])
    assert spoken and silent
    times = spoken[:: max(1, len(spoken) // 6)] + silent[:: max(1, len(silent) // 4)]
    burned, clean = frames_at(made["filepath"], times), frames_at(bare["filepath"], times)
    band = slice(round(0.62 * 1920) - 110, round(0.62 * 1920) + 110)
    for t in times:  # the share of the band's pixels the captions changed
        changed = (np.abs(burned[t][band].astype(int) - clean[t][band].astype(int)) > 48).mean()
        if t in spoken:
            assert changed > 0.005, (t, changed)
        else:
            assert changed < 0.001, (t, changed)
    assert Path(made["captions"]).with_suffix(".vtt").read_text().startswith("WEBVTT")


def test_an_edited_srt_is_burned_instead_of_the_heard_words(workspace: Workspace) -> None:
    clip_id = stored_clip(workspace)
    result = run("export-clip", str(clip_id), "--captions", "srt", "--layout", "crop", "--json")
    assert result.exit_code == 0, result.output
    (first,) = json.loads(result.stdout)["exports"]
    srt = Path(first["captions"])
    assert "fellow" in srt.read_text().lower()
    edited = workspace.root / "edited.srt"
    edited.write_text(srt.read_text().replace("fellow", "KICKCLIP").replace("Fellow", "KICKCLIP"))
    again = run(
        "export-clip",
        str(clip_id),
        "--subtitles",
        str(edited),
        "--layout",
        "crop",
        "--dest",
        "edited",
        "--json",
    )
    assert again.exit_code == 0, again.output
    (second,) = json.loads(again.stdout)["exports"]
    assert "KICKCLIP" in Path(second["captions"]).read_text()
    spoken, _ = cue_times(second["captions"])
    shots = frames_at(second["filepath"], spoken[:1])
    band = shots[spoken[0]][round(0.72 * 1920) - 100 : round(0.72 * 1920) + 100]
    assert (band.min(axis=2) > 230).sum() > 500  # white letters painted
    assert describe(first["filepath"])["size"] == (1080, 1920)  # --captions srt: not burned


def test_a_vp9_opus_clip_exports_as_h264_aac(workspace: Workspace) -> None:
    clip_id = stored_clip(workspace, "clip.webm", codecs=("libvpx-vp9", "libopus"))
    result = run(
        "export-clip",
        str(clip_id),
        "--aspect",
        "1:1",
        "--layout",
        "fit",
        "--captions",
        "none",
        "--json",
    )
    assert result.exit_code == 0, result.output
    (made,) = json.loads(result.stdout)["exports"]
    facts = describe(made["filepath"])
    assert (facts["video"], facts["audio"], facts["size"]) == ("h264", "aac", (1080, 1080))
    assert abs(facts["seconds"] - DURATION_S) <= 0.1


def test_a_facecam_given_is_remembered_for_the_source(workspace: Workspace) -> None:
    clip_id = stored_clip(workspace)
    quick = ["--aspect", "1:1", "--captions", "none", "--json"]
    given = run("export-clip", str(clip_id), "--facecam", "440,0,200,200", *quick)
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout)["exports"][0]["facecam"] == [440, 0, 200, 200]
    later = run("export-clip", str(clip_id), *quick)
    assert json.loads(later.stdout)["exports"][0]["facecam"] == [440, 0, 200, 200]


BAD = [
    (["export-clip", "1", "--aspect", "4:3"], "--aspect"),
    (["export-clip", "1", "--layout", "zoom"], "--layout"),
    (["export-clip", "1", "--captions", "maybe"], "--captions"),
    (["export-clip", "1", "--facecam", "1,2,3"], "--facecam"),
    (["export-clip", "1", "--facecam", "600,300,100,100"], "inside"),
    (["export-clip", "1", "--subtitles", "missing.srt"], "not found"),
    (["export-clip", "99"], "no clip"),
    (["export-clip", "2"], "no picture"),
    (["export-clip", "3"], "gone"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_exports_are_one_line_and_change_nothing(
    args: list[str], says: str, workspace: Workspace
) -> None:
    stored_clip(workspace)
    manager = ClipManager(workspace.db)
    sound = workspace.root / "output_clips" / "sound.m4a"
    with av.open(str(sound), "w") as out:  # an audio-only clip
        stream = out.add_stream("aac", rate=RATE)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="flt", layout="mono"
        )
        frame.sample_rate, frame.pts = RATE, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    manager.register_clip(sound, 0.0, 1.0, 0.5, "audio", {})
    manager.register_clip(workspace.root / "gone.mp4", 0.0, 1.0, 0.5, "audio", {})
    workspace.mark()
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert says in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert workspace.unchanged()
