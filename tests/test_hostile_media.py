"""Issue 20, "Tracebacks on ordinary media": intra-only video, a title in another encoding,
codecs MP4 does not take, frames too large to analyse, and a fuzz of damaged files. Every one
gives clips or one readable line, never a traceback or a hang."""

from __future__ import annotations

import json
import random
import shutil
import signal
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import Workspace
from kickclip import pipeline
from kickclip.cli import app
from kickclip.errors import KickclipError
from kickclip.settings import Settings
from media import make_media, remux

ARGS = ("--clip-duration", "4", "--min-gap", "4")


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _encode(path: Path, codec: str, *, frames: int = 40, gop: int | None = None) -> Path:
    """A 160×96 video of ``frames`` frames at 10 fps with a tone (PCM in AVI, else AAC)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=10)
        video.width, video.height = 160, 96
        video.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if gop is not None:
            video.codec_context.gop_size = gop
        audio = out.add_stream("pcm_s16le" if path.suffix == ".avi" else "aac", rate=16000)
        for i in range(frames):
            picture = np.full((96, 160, 3), (i * 23) % 255, np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(video.encode(None))
        tone = (np.sin(np.arange(1600 * frames) * 0.05) * 8000).astype(np.int16)[None, :]
        sound = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        sound.sample_rate = 16000
        out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    return path


def _with_foreign_title(source: Path, dest: Path) -> Path:
    """``source`` remuxed with a title tag that is not UTF-8 (Latin-1 and stray bytes)."""
    marker = "TITLE-PLACEHOLDER"
    with av.open(str(source)) as src, av.open(str(dest), "w") as out:
        out.metadata["title"] = marker
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    data = dest.read_bytes()
    foreign = b"Caf\xe9 \xff\xfe\x80 stream"
    dest.write_bytes(data.replace(marker.encode(), foreign.ljust(len(marker), b"!")))
    assert foreign in dest.read_bytes()
    return dest


def _codecs(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return sorted(s.codec_context.name for s in container.streams)


# --- each kind of file from "Why": clips or one line ---------------------------------------
HOSTILE = {
    "MJPEG in AVI (every frame a key frame)": lambda folder: _encode(folder / "m.avi", "mjpeg"),
    "x264 -g 1": lambda folder: _encode(folder / "g1.mp4", "libx264", gop=1),
    "a single frame": lambda folder: _encode(folder / "one.mp4", "libx264", frames=1),
    "a title that is not UTF-8": lambda folder: _with_foreign_title(
        make_media(folder / "plain.mkv", duration_s=20, bursts=[(5, 7)]), folder / "title.mkv"
    ),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_ordinary_but_unusual_files_analyse_and_generate(
    workspace: Workspace, tmp_path_factory, kind: str
) -> None:
    source = HOSTILE[kind](tmp_path_factory.mktemp("hostile"))
    for command in ("analyze", "generate"):
        result = _run(command, str(source), *ARGS, "--json")
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)  # JSON alone, whatever was found


def test_a_clip_file_with_a_foreign_title_does_not_stop_cleanup(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.out.mkdir()
    plain = make_media(tmp_path / "plain.mp4", duration_s=4)
    _with_foreign_title(plain, workspace.out / "someone_elses.mp4")
    result = _run("cleanup", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["left_alone"] == [str(workspace.out / "someone_elses.mp4")]


@pytest.mark.parametrize(
    ("name", "codecs", "rate"),
    [("vp8.webm", ("libvpx", "libopus"), 48000), ("mp3.mkv", ("libx264", "mp3"), 44100)],
)
def test_codecs_mp4_does_not_take_are_encoded_to_h264_and_aac(
    workspace: Workspace, tmp_path: Path, name: str, codecs: tuple[str, str], rate: int
) -> None:
    source = make_media(
        tmp_path / name,
        duration_s=30,
        bursts=[(8, 10)],
        action=[(20, 23)],
        codecs=codecs,
        sample_rate_hz=rate,
    )
    result = _run("generate", str(source), *ARGS, "--json")
    assert result.exit_code == 0, result.output
    clips = json.loads(result.stdout)["highlights"]
    assert clips
    for clip in clips:
        assert _codecs(Path(clip["filepath"])) == ["aac", "h264"]


def test_frames_larger_than_the_cap_get_one_line(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    probe = importlib.import_module("kickclip.ingest.probe")  # kickclip.ingest.probe: a function
    source = make_media(tmp_path / "wide.mp4", duration_s=4, size=(320, 240))
    monkeypatch.setattr(probe, "MAX_FRAME_PIXELS", 160 * 120)  # a 16000×16000 file is 1 GB
    result = _run("analyze", str(source))
    assert result.exit_code == 1
    assert "320×240 are larger than kickclip analyses" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


# --- the fuzz: damaged MP4, TS and MKV -------------------------------------------------------
class _Hang(Exception):
    pass


def _damaged(data: bytes, rng: random.Random, variant: int) -> bytes:
    if variant % 3 == 0:  # an interrupted download
        return data[: rng.randrange(1, len(data))]
    flipped = bytearray(data)  # a faulty disk or network: bits flipped here and there
    for _ in range(rng.choice([1, 4, 32, 256])):
        where = rng.randrange(len(flipped))
        flipped[where] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def test_damaged_files_never_give_a_traceback_or_hang(tmp_path: Path) -> None:
    """300 variants (100 per container), every 10th through generate: each ends in a result
    or a KickclipError (one line in the CLI) within 10 s."""
    base = make_media(
        tmp_path / "base.mp4",
        duration_s=8,
        size=(64, 48),
        fps=10,
        bursts=[(3, 4)],
        action=[(5, 6)],
        keyframe_interval_s=1,
    )
    containers = {
        "mp4": base,
        "ts": remux(base, tmp_path / "base.ts", offset_s=1.4),
        "mkv": remux(base, tmp_path / "base.mkv"),
    }
    settings = Settings(
        db=tmp_path / "clips.db",
        out=tmp_path / "clips",
        models_dir=tmp_path / "models",
        clip_duration=2,
        min_gap=2,
    )
    rng = random.Random(20)
    outcomes: dict[str, int] = {}
    failures: list[str] = []

    def hang(*_args) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, hang)
    try:
        for suffix, source in containers.items():
            data = source.read_bytes()
            for variant in range(100):
                damaged = tmp_path / f"damaged.{suffix}"
                damaged.write_bytes(_damaged(data, rng, variant))
                step = pipeline.generate if variant % 10 == 0 else pipeline.analyze
                signal.alarm(10)
                try:
                    step(str(damaged), settings)
                    outcome = "ok"
                except KickclipError as error:
                    outcome = type(error).__name__
                    assert "\n" not in str(error)
                except _Hang:
                    outcome = "hang"
                except Exception as error:  # what the CLI would show as a traceback
                    outcome = f"{type(error).__name__}: {error}"
                finally:
                    signal.alarm(0)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "hang" or ":" in outcome:
                    failures.append(f"{suffix} #{variant}: {outcome}")
                    shutil.copy(damaged, tmp_path / f"failed-{variant}.{suffix}")
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not failures, (failures, outcomes)
    assert outcomes.get("ok", 0) > 0 and len(outcomes) > 1  # both outcomes were reached


# --- hostile data: import files and ids ----------------------------------------------------
IMPORTS = {
    "nested.json": ('{"clips": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    "wide.csv": (
        "filepath,start_time,end_time,score,clip_type\n" + "a" * 200_000 + ",0,5,0.5,audio\n",
        "field larger than field limit",
    ),
    "features.json": (
        '{"clips": [{"filepath": "/x.mp4", "start_time": 0, "end_time": 5, "score": 0.5, '
        '"clip_type": "audio", "features": "loud"}]}',
        "features must be a JSON object",
    ),
}


@pytest.mark.parametrize("name", IMPORTS)
def test_hostile_import_files_get_one_line_and_change_nothing(
    workspace: Workspace, name: str
) -> None:
    text, words = IMPORTS[name]
    (workspace.root / name).write_text(text)
    workspace.mark()
    result = _run("import", name)
    assert result.exit_code == 1 and words in result.output
    assert "Traceback" not in result.output and workspace.unchanged()


def test_an_import_file_over_the_size_limit_is_refused_before_reading(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kickclip.store import exchange

    (workspace.root / "big.json").write_text('{"clips": []}' + " " * 4096)
    monkeypatch.setattr(exchange, "MAX_IMPORT_BYTES", 1024)
    result = _run("import", "big.json")
    assert result.exit_code == 1 and "larger than" in result.output


@pytest.mark.parametrize(
    "command",
    [("rate", "{id}", "5"), ("delete", "{id}"), ("tag", "{id}", "x"), ("explain", "{id}")],
)
def test_ids_past_64_bits_are_no_clip(workspace: Workspace, command: tuple[str, ...]) -> None:
    huge = str(2**64 + 5)
    result = _run(*(part.format(id=huge) for part in command))
    assert result.exit_code == 1 and f"no clip with id {huge}" in result.output


def test_a_clips_folder_that_cannot_be_written_gets_one_line(
    workspace: Workspace, sample_video: Path
) -> None:
    blocked = workspace.root / "not-a-folder"
    blocked.write_text("a file where the clips folder should be")
    result = _run("generate", str(sample_video), *ARGS, "--out", str(blocked))
    assert result.exit_code == 1
    assert f"cannot write clips into {blocked}" in result.output
    assert "Traceback" not in result.output
