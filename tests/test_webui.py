"""The web UI: handlers on plain values (no server), then the real app over HTTP on loopback."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from pathlib import Path

import gradio as gr
import pytest

from kickclip import pipeline
from kickclip.settings import Settings
from kickclip.webui import browse_tab, generate_tab, rate_tab
from media import eventful_stream, make_media


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Settings:
    """A clips library generated from a small stream with several events."""
    root = tmp_path_factory.mktemp("library")
    source = eventful_stream(root / "stream.mp4")
    settings = Settings(
        db=root / "clips.db",
        out=root / "clips",
        models_dir=root / "models",
        clip_duration=6,
        min_gap=10,
        media_dir=tmp_path_factory.getbasetemp(),  # the tests' streams live below it
    )
    pipeline.generate(str(source), settings)
    return settings


def test_generate_tab_errors_are_visible(library: Settings) -> None:
    with pytest.raises(gr.Error, match=r"enter a kick\.com URL"):
        generate_tab.analyze(library, "", None, 10, 10, 5, "best", progress=lambda *a, **k: None)
    with pytest.raises(gr.Error, match="file not found"):
        generate_tab.analyze(
            library, "nope.mp4", None, 10, 10, 5, "best", progress=lambda *a, **k: None
        )


def test_analyze_tab_tables(library: Settings, tmp_path: Path) -> None:
    source = make_media(tmp_path / "s.mp4", duration_s=60, bursts=[(20, 22)], action=[(40, 43)])
    audio, video, _chat, status, _kept = generate_tab.analyze(
        library, str(source), None, 8, 10, 5, "best", progress=lambda *a, **k: None
    )
    assert audio and video and "highlights" in status
    assert all(len(row) == 4 for row in audio + video)


def test_generate_reuses_the_analysis_it_follows(
    library: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_media(tmp_path / "s.mp4", duration_s=60, bursts=[(20, 22)], action=[(40, 43)])
    form = (str(source), None, 8, 10, 5, "best")
    *_, kept = generate_tab.analyze(library, *form, progress=lambda *a, **k: None)

    def analyze_again(*args, **kwargs):
        raise AssertionError("Generate analyzed the stream again")

    monkeypatch.setattr(pipeline, "analyze", analyze_again)
    gallery, status = generate_tab.generate(library, *form, kept, progress=lambda *a, **k: None)
    assert gallery and "clips registered" in status
    changed = (str(source), None, 9, 10, 5, "best")  # another clip duration: analyze again
    with pytest.raises(AssertionError, match="analyzed the stream again"):
        generate_tab.generate(library, *changed, kept, progress=lambda *a, **k: None)


def test_cancel_stops_a_long_job_and_writes_nothing(library: Settings, tmp_path: Path) -> None:
    import threading
    import time

    from kickclip.webui.core import JOBS

    source = make_media(tmp_path / "long.mp4", duration_s=900, bursts=[(100, 102)])
    settings = library.replace(out=tmp_path / "clips", db=tmp_path / "clips.db")
    outcome: list = []
    started = threading.Event()

    def progress(*args, **kwargs) -> None:
        started.set()

    def run() -> None:
        outcome.append(
            generate_tab.generate(settings, str(source), None, 8, 10, 5, "best", None, progress)
        )

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(60)
    pressed = time.monotonic()
    assert generate_tab.cancel() == "Cancelling…"
    worker.join(30)
    assert time.monotonic() - pressed < 2
    ((gallery, status),) = outcome  # an outcome, not an error: the gallery left as it was
    assert status == "Cancelled: the clips finished before it are kept."
    assert gallery == gr.skip()
    assert not (tmp_path / "clips").exists() or not list((tmp_path / "clips").iterdir())
    assert not (tmp_path / "clips.db").exists()  # analysis never got to the store
    assert generate_tab.cancel() == "Nothing is running."
    assert JOBS._events == {}


def test_rate_flow_trains_the_model(library: Settings) -> None:
    dropdown, video, _status = rate_tab.load_unrated(library)
    choices = dropdown["choices"]
    assert len(choices) >= 10 and video and Path(video).is_file()
    for number, choice in enumerate(choices[:10]):
        label = rate_tab.STARS[number % 5]
        rate_tab.submit_rating(library, choice[0] if isinstance(choice, tuple) else choice, label)
    rate_tab._training.acquire()  # wait for the background training to finish
    rate_tab._training.release()
    for _ in range(100):
        summary, model = rate_tab.statistics_markdown(library)
        if "Model trained" in model:
            break
        import time

        time.sleep(0.1)
    assert "Model trained" in model
    for stars in range(1, 6):
        assert re.search(rf"\| {'★' * stars} \| █+ \| 2 \|", summary)
    # One model version: a point per metric, whole numbers of ratings on the axis.
    (axes,) = rate_tab.curve_figure(library).axes
    lines = axes.get_lines()
    assert len(lines) == 2 and all(len(line.get_xdata()) == 1 for line in lines)
    assert all(line.get_marker() == "o" for line in lines)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(axes.figure).draw()  # tick labels are made when drawn
    ticks = [tick.get_text() for tick in axes.get_xticklabels() if tick.get_text()]
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks
    with pytest.raises(gr.Error, match="choose a clip"):
        rate_tab.submit_rating(library, None, "5 - Excellent")


def test_browse_only_serves_clips(library: Settings) -> None:
    gallery, dropdown, _tags = browse_tab.refresh_gallery(library)
    assert gallery and all(Path(image).is_file() for image, _ in gallery)
    _preview, download = browse_tab.select_clip(
        library,
        dropdown["choices"][0][0]
        if isinstance(dropdown["choices"][0], tuple)
        else dropdown["choices"][0],
    )
    assert Path(download).resolve().is_relative_to(library.out.resolve())
    from kickclip.webui.core import inside_clips

    for outside in (library.db, library.out / ".." / "clips.db", Path("/etc/passwd")):
        with pytest.raises(gr.Error):
            inside_clips(library, outside)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_api_flow_and_no_files_outside_the_clips_folder(library: Settings) -> None:
    from gradio_client import Client

    from kickclip.webui.app import serve

    port = _free_port()
    app = serve(library, port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        summary, model = client.predict(api_name="/stats")
        assert "clips" in summary and "Model" in model
        db_bytes = library.db.read_bytes()[:16]
        for path in (f"{library.out}/../clips.db", str(library.db), "/etc/passwd"):
            status, body = _get(f"http://127.0.0.1:{port}/gradio_api/file={path}")
            assert status >= 400 and db_bytes not in body and b"root:" not in body
        clip = next(library.out.glob("*.mp4"))
        status, body = _get(f"http://127.0.0.1:{port}/gradio_api/file={clip}")
        assert status == 200 and body == clip.read_bytes()
    finally:
        app.close()


def test_auth_refuses_anonymous_requests(library: Settings) -> None:
    from kickclip.webui.app import serve

    port = _free_port()
    app = serve(library, port=port, auth=[("editor", "s3cret")], block=False)
    try:
        status, _ = _get(f"http://127.0.0.1:{port}/config")
        assert status == 401
        clip = next(library.out.glob("*.mp4"))
        status, body = _get(f"http://127.0.0.1:{port}/gradio_api/file={clip}")
        assert status == 401 and body != clip.read_bytes()
    finally:
        app.close()


def test_gradio_client_drives_the_whole_flow(tmp_path: Path, capfd) -> None:
    from gradio_client import Client

    from kickclip.webui.app import serve

    source = eventful_stream(tmp_path / "stream.mp4")
    settings = Settings(
        db=tmp_path / "clips.db",
        out=tmp_path / "clips",
        models_dir=tmp_path / "models",
        media_dir=tmp_path,
    )
    port = _free_port()
    app = serve(settings, port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        args = (str(source), None, 6, 10, 20, "best", None, 0)
        audio, video, _chat, status = client.predict(*args, api_name="/analyze")
        assert "highlights" in status and audio["data"] and video["data"]
        gallery, status = client.predict(*args, api_name="/generate")
        assert "10 clips registered" in status and len(gallery) == 10
        dropdown, _, status = client.predict(api_name="/load_unrated")
        assert "10 clips to rate" in status
        for number in range(10):
            dropdown, _, _ = client.predict(api_name="/load_unrated")
            choice = dropdown["value"]
            client.predict(choice, rate_tab.STARS[number % 5], api_name="/rate")
        summary, model = client.predict(api_name="/train")
        assert "Model trained" in model and "10** rated" in summary
        gallery, dropdown, _tags = client.predict(None, api_name="/refresh_gallery")
        assert len(gallery) == 10
        capfd.readouterr()
        refused = ("/etc/hostname", *args[1:])
        with pytest.raises(Exception, match="only files in"):
            client.predict(*refused, api_name="/analyze")
        console = capfd.readouterr().err
        # A user's mistake is one line in the server's console, not Gradio's traceback.
        assert "Traceback" not in console
        assert [line for line in console.splitlines() if "only files in" in line] == [
            f"kickclip: only files in {tmp_path.resolve()} can be read here; start kickclip "
            "serve --media-dir DIR to choose the folder, or upload the file"
        ]
    finally:
        app.close()


def test_local_files_only_from_the_media_dir(library: Settings, tmp_path: Path) -> None:
    """A browser cannot make the server read its other files; uploads and URLs still work."""
    (tmp_path / "media").mkdir()
    inside = make_media(tmp_path / "media" / "vod.mp4", duration_s=30, bursts=[(10, 12)])
    settings = library.replace(media_dir=tmp_path / "media")
    (tmp_path / "media" / "escape.mp4").symlink_to(library.db)
    quiet = {"progress": lambda *a, **k: None}
    for outside in ("/etc/hostname", "../media/../s.mp4", str(library.db), "escape.mp4"):
        with pytest.raises(gr.Error, match=r"only files in .* can be read here"):
            generate_tab.analyze(settings, outside, None, 8, 10, 5, "best", **quiet)
    for readable in ("vod.mp4", str(inside)):  # relative paths start in the media folder
        *_, status, _ = generate_tab.analyze(settings, readable, None, 8, 10, 5, "best", **quiet)
        assert "highlights" in status
    with pytest.raises(gr.Error, match="not in the upload folder"):
        generate_tab.analyze(settings, "", str(inside), 8, 10, 5, "best", **quiet)
    with pytest.raises(gr.Error, match="ftp"):
        generate_tab.analyze(settings, "ftp://example.com/v.mp4", None, 8, 10, 5, "best", **quiet)


def test_one_store_per_process(library: Settings) -> None:
    from kickclip.webui.core import store

    first, trainer = store(library)
    assert store(library) == (first, trainer)  # not opened (and migrated) per request
    assert store(library.replace(db=library.db.parent / "other.db"))[0] is not first


def test_a_chat_log_upload_adds_chat_highlights(library: Settings, tmp_path: Path) -> None:
    import random

    from gradio.utils import get_upload_folder

    import chatlog

    source = make_media(tmp_path / "s.mp4", duration_s=240, bursts=[(60, 62)])
    rng = random.Random(3)
    raw = chatlog.chatter(rng, 240, rate=1.0, crowd=50)
    raw += chatlog.reaction(rng, 60, lag=5, people=25, kind="hype")
    raw += chatlog.reaction(rng, 150, lag=5, people=25, kind="laugh")  # a joke: chat only
    uploads = Path(get_upload_folder()) / "kickclip-test"
    uploads.mkdir(parents=True, exist_ok=True)
    chat = chatlog.write_jsonl(uploads / f"chat-{rng.random()}.jsonl", raw)
    quiet = {"progress": lambda *a, **k: None}
    form = (str(source), None, 10, 20, 5, "best")
    _, _, chat_rows, _, _ = generate_tab.analyze(library, *form, chat_file=str(chat), **quiet)

    def seconds(shown: str) -> int:  # the tables show h:mm:ss
        hours, minutes, secs = (int(part) for part in shown.split(":"))
        return 3600 * hours + 60 * minutes + secs

    assert any(seconds(row[0]) <= 150 <= seconds(row[1]) for row in chat_rows), chat_rows
    with pytest.raises(gr.Error, match="not in the upload folder"):  # only uploads are read
        generate_tab.analyze(library, *form, chat_file=str(library.db), **quiet)
