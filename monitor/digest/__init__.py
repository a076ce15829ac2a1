"""Stage 5, digest: pending stories into topic sections, rendered as an email.

Takes `Story`s from `store` and the digest's config; `build_digest` groups
them under the configured topics (`topics`), with related coverage
(`related`) and lead summaries (`summary`), and returns a `Digest`
(`homes`: which of them a digest shows, under which topic);
`compose` renders it with the jinja2 templates into a multipart email and
hands that on to `send`; `digest_data` gives it as plain data (the JSON
preview). `match_topics` also runs at ingest, on each article.

Exports are imported when first used (`monitor.lazy`): the worker processes
that match topics do not need the renderer.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .build import build_digest, homes
    from .data import digest_data
    from .render import compose, render_html
    from .topics import match_topics

__all__ = ["build_digest", "compose", "digest_data", "homes", "match_topics", "render_html"]

__getattr__ = lazy_exports(
    __name__,
    {
        "build": ("build_digest", "homes"),
        "data": ("digest_data",),
        "render": ("compose", "render_html"),
        "topics": ("match_topics",),
    },
)
