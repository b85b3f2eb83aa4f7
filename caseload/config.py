"""The user's own preferences: the theme and who they were last time, per database.

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
    return Loaded(Config(
        theme=theme if isinstance(theme, str) else None,
        identities={str(k): str(v) for k, v in identities.items()} if isinstance(identities, dict) else {},
    ))


def save(path: Path, config: Config) -> None:
    """Write beside the target and rename, so a crash never leaves half a file; readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"theme": config.theme, "identities": dict(sorted(config.identities.items()))}
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
