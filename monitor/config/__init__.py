"""The configuration every stage reads: the TOML file, checked once, as one typed `Config`.

Takes the path of a config file (found by `find_config`) and hands on frozen
dataclasses; every complaint names the file, the line and the key. What the
commands change in a config file (feeds added, paused, imported) is written
by `cli`, which keeps the user's comments.
"""

from .files import CONFIG_ENV, find_config, user_config_path, user_data_dir
from .loader import load_config
from .settings import (
    MAX_DAYS,
    Config,
    DedupConfig,
    DigestConfig,
    FeedConfig,
    FetchConfig,
    SmtpConfig,
    StorageConfig,
    TopicConfig,
)
from .values import feed_location_problem, local_path, outside_roots, url_problem

__all__ = [
    "CONFIG_ENV",
    "MAX_DAYS",
    "Config",
    "DedupConfig",
    "DigestConfig",
    "FeedConfig",
    "FetchConfig",
    "SmtpConfig",
    "StorageConfig",
    "TopicConfig",
    "feed_location_problem",
    "find_config",
    "load_config",
    "local_path",
    "outside_roots",
    "url_problem",
    "user_config_path",
    "user_data_dir",
]
