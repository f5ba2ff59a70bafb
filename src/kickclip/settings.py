"""Defaults, bounds, env vars and help text: one table read by the CLI, the web UI and the docs.

Resolution order is CLI flag > environment variable > default; front-ends resolve once into a
frozen :class:`Settings` and the core never reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kickclip.errors import InvalidInput
from kickclip.store.backends import database_location
from kickclip.store.clip_manager import validate_user


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    envvar: str | None = None
    minimum: float | None = None
    maximum: float | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        Path("clips.db"),
        "Clip database: an SQLite file, or postgresql://user@host:port/dbname to share one.",
        envvar="KICKCLIP_DB",
    ),
    Setting("out", Path("output_clips"), "Folder clips are written to.", envvar="KICKCLIP_OUT"),
    Setting("models_dir", Path("models"), "Folder of the learned model.", envvar="KICKCLIP_MODELS"),
    Setting("clip_duration", 30.0, "Length of each clip in seconds.", minimum=2, maximum=600),
    Setting(
        "min_gap",
        60.0,
        "Minimum seconds between two highlights (two moments).",
        minimum=0,
        maximum=3600,
    ),
    Setting(
        "top", 20, "Highest number of highlights (moments; each one clip).", minimum=1, maximum=500
    ),
    Setting(
        "thorough",
        False,
        "Decode every sampled video frame (slower; default skips "
        "non-key frames where the feature allows).",
    ),
    Setting(
        "record_minutes",
        10.0,
        "Minutes to record of a live source before analysis.",
        minimum=0.1,
        maximum=24 * 60,
    ),
    Setting(
        "quality", "best", "Rendition to cut clips from: best, worst or a height such as 720p."
    ),
    Setting(
        "accurate",
        False,
        "Frame-accurate cuts (re-encode H.264 + AAC) instead of a "
        "stream copy from the keyframe at or before the start.",
    ),
    Setting(
        "force",
        False,
        "Cut again the highlights already stored for this source (the stored clip keeps its "
        "id, rating and tags); by default they are reused.",
    ),
    Setting(
        "chat",
        None,
        "A chat log to read the audience from: JSON lines or array, CSV (t or time, user, "
        "text), yt-dlp's live_chat.json, or Kick's message JSON.",
    ),
    Setting(
        "chat_offset",
        0.0,
        "Seconds added to every chat time, to align a log whose clock started elsewhere.",
        minimum=-86400,
        maximum=86400,
    ),
    Setting(
        "media_dir",
        Path("."),
        "serve: the only folder (with its subfolders) the web UI reads local files from; "
        "relative paths typed in the UI start there.",
    ),
    Setting(
        "user",
        None,
        "Rate, train, list and score as this user; each user has their own ratings and "
        "model (default: the default user, whose rating is the clips table's rating column).",
        envvar="KICKCLIP_USER",
    ),
    Setting(
        "allow_private_addresses",
        False,
        "Read remote sources on loopback, private and link-local addresses (a media server "
        "on your own network); refused by default, with every playlist entry and redirect.",
        envvar="KICKCLIP_ALLOW_PRIVATE_ADDRESSES",
    ),
    Setting(
        "words",
        True,
        "Hear each clip's words when it is cut (the speech extra): stored as its transcript, "
        "and its start and end moved into pauses between words (such a clip is re-encoded "
        "so it starts exactly there).",
    ),
    Setting(
        "speech_model",
        None,
        "A CTranslate2 Whisper model folder to hear words with (default: Whisper tiny.en, "
        "English, shipped by the speech extra).",
        envvar="KICKCLIP_SPEECH_MODEL",
    ),
    Setting(
        "keep_recording",
        False,
        "Keep the recording of a live source after its clips are cut (default: removed).",
    ),
)

SETTING_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once by a front-end."""

    db: Path | str = SETTING_BY_NAME["db"].default  # a file, or a PostgreSQL URL
    out: Path = SETTING_BY_NAME["out"].default
    models_dir: Path = SETTING_BY_NAME["models_dir"].default
    clip_duration: float = SETTING_BY_NAME["clip_duration"].default
    min_gap: float = SETTING_BY_NAME["min_gap"].default
    top: int = SETTING_BY_NAME["top"].default
    thorough: bool = SETTING_BY_NAME["thorough"].default
    record_minutes: float = SETTING_BY_NAME["record_minutes"].default
    quality: str = SETTING_BY_NAME["quality"].default
    accurate: bool = SETTING_BY_NAME["accurate"].default
    force: bool = SETTING_BY_NAME["force"].default
    keep_recording: bool = SETTING_BY_NAME["keep_recording"].default
    words: bool = SETTING_BY_NAME["words"].default
    speech_model: Path | None = SETTING_BY_NAME["speech_model"].default
    allow_private_addresses: bool = SETTING_BY_NAME["allow_private_addresses"].default
    media_dir: Path = SETTING_BY_NAME["media_dir"].default
    chat: Path | None = SETTING_BY_NAME["chat"].default
    chat_offset: float = SETTING_BY_NAME["chat_offset"].default
    user: str | None = SETTING_BY_NAME["user"].default

    def __post_init__(self) -> None:
        object.__setattr__(self, "db", database_location(self.db))
        object.__setattr__(self, "user", validate_user(self.user))
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if setting.minimum is not None and not (setting.minimum <= value <= setting.maximum):
                raise InvalidInput(
                    f"{setting.name.replace('_', '-')} must be between {setting.minimum:g} "
                    f"and {setting.maximum:g}, got {value:g}"
                )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def flag(setting: Setting) -> str:
    """The CLI flag of a setting: ``models_dir`` → ``--models-dir``."""
    return "--" + setting.name.replace("_", "-")


def markdown_table() -> str:
    """The README's defaults table, generated so docs and code cannot drift apart."""
    lines = ["| option | default | env var | meaning |", "| --- | --- | --- | --- |"]
    for setting in SETTINGS:
        default = setting.default
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        env = f"`{setting.envvar}`" if setting.envvar else ""
        lines.append(f"| `{flag(setting)}` | `{shown}` | {env} | {setting.help} |")
    return "\n".join(lines)


DEFAULT_SETTINGS = Settings()
