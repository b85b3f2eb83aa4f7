"""The user's own preferences: the theme, who they were last time per database, and their own keys.

Shared settings that change figures live in the database (store/settings.py). This file
holds nothing personal about customers: only a theme name and staff ids keyed by the
database URL with any password hidden.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

ENV_VAR = "CASELOAD_CONFIG_DIR"
FILE_NAME = "config.json"


def config_dir(explicit: Path | None = None) -> Path:
    """The folder holding config.json: the one given, else $CASELOAD_CONFIG_DIR, else the platform's."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("caseload"))


@dataclass(frozen=True)
class Config:
    theme: str | None = None
    identities: dict[str, str] = field(default_factory=dict)
    # The user's own keys: a binding's id (F1 lists them) to the keys that press it, comma-separated,
    # e.g. {"caseload_filter": "slash,ctrl+f"}. Textual's keymap; written by hand, kept on save.
    keymap: dict[str, str] = field(default_factory=dict)
    keymap_unread: object = None  # a keymap that could not be used, written back as it was found

    def identity_for(self, db_key: str) -> str | None:
        return self.identities.get(db_key)

    def with_identity(self, db_key: str, staff_id: str) -> Config:
        return replace(self, identities={**self.identities, db_key: staff_id})

    def with_theme(self, theme: str) -> Config:
        return replace(self, theme=theme)


@dataclass(frozen=True)
class Loaded:
    config: Config
    problem: str | None = None  # a sentence for the user when the file could not be read


def load(path: Path) -> Loaded:
    """The config at path; defaults when there is none, and a sentence saying why when it is unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Loaded(Config())
    except (OSError, ValueError) as exc:
        return Loaded(Config(), f"Your settings in {path} could not be read ({exc.__class__.__name__}); "
                                "defaults are in use and the file will be rewritten when a setting changes.")
    if not isinstance(raw, dict):
        return Loaded(Config(), f"Your settings in {path} are not a JSON object; defaults are in use.")
    theme = raw.get("theme")
    identities = raw.get("identities")
    keymap = raw.get("keymap", {})
    base = Config(
        theme=theme if isinstance(theme, str) else None,
        identities={str(k): str(v) for k, v in identities.items()} if isinstance(identities, dict) else {},
    )
    if not isinstance(keymap, dict) or not all(isinstance(v, str) and v.strip() for v in keymap.values()):
        return Loaded(replace(base, keymap_unread=keymap),
                      f"The keymap in {path} is not an object of binding names to keys (for example "
                      '"keymap": {"caseload_filter": "slash,ctrl+f"}); the standard keys are in use.')
    return Loaded(replace(base, keymap={str(k): v.strip() for k, v in keymap.items()}))


def save(path: Path, config: Config) -> None:
    """Write beside the target and rename, so a crash never leaves half a file; readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"theme": config.theme, "identities": dict(sorted(config.identities.items()))}
    if config.keymap:
        data["keymap"] = dict(config.keymap)
    elif config.keymap_unread is not None:
        data["keymap"] = config.keymap_unread
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
