"""Where the config file is, and where a user's config and data live by default."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

CONFIG_ENV = "MONITOR_CONFIG"


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    """The config to use: ``--config``, else ``$MONITOR_CONFIG``, else ./config.toml,
    else the user's config file (`user_config_path`)."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    for candidate in (Path("config.toml"), user_config_path()):
        if candidate.exists():
            return candidate
    raise ConfigError(
        "no config file: pass --config PATH, set MONITOR_CONFIG, or run monitor init "
        f"(which writes {user_config_path()})"
    )


def user_config_path() -> Path:
    """The platform's place for this user's config (e.g. ~/.config/monitor/config.toml)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("monitor")) / "config.toml"


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("monitor"))
