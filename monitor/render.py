"""Render a `Digest` with the jinja2 templates and compose the email.

Templates are looked up first in ``[digest] templates`` (if set), then in the
ones shipped with `monitor`, so a user can override one file and keep the
other. The message is multipart/alternative: a plain-text part that reads
well alone, and an HTML part.
"""

from __future__ import annotations

import email.utils
import re
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import jinja2

from .config import Config
from .errors import ConfigError
from .models import Digest

ALSO_LABEL = "也见于"
FOOTER = "monitor · 每日摘要"


def template_dirs(config: Config) -> list[Path]:
    package = Path(__file__).resolve().parent
    shipped = [package / "templates", package.parent / "templates"]
    found = [d for d in shipped if (d / "digest.html.j2").exists()]
    if config.digest.templates is not None:
        found.insert(0, config.digest.templates)
    return found


def _environment(config: Config, *, html: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(config)]),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _render(config: Config, digest: Digest, name: str, *, html: bool) -> str:
    try:
        template = _environment(config, html=html).get_template(name)
        return template.render(digest=digest, also_label=ALSO_LABEL, footer=FOOTER, lang="zh-Hans")
    except jinja2.TemplateNotFound as e:
        raise ConfigError(f"digest.templates: template {e.name} not found") from e
    except jinja2.TemplateError as e:
        where = f"{getattr(e, 'filename', None) or name}:{getattr(e, 'lineno', '?')}"
        raise ConfigError(f"{where}: digest template error: {e.message}") from e


def render_html(config: Config, digest: Digest) -> str:
    return _render(config, digest, "digest.html.j2", html=True)


def render_text(config: Config, digest: Digest) -> str:
    text = _render(config, digest, "digest.txt.j2", html=False)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def compose(config: Config, digest: Digest) -> tuple[EmailMessage, str]:
    """The digest as an email with Date, Message-ID and List-Id set, and its HTML."""
    html = render_html(config, digest)
    message = EmailMessage()
    sender_domain = config.digest.sender.rpartition("@")[2] or "localhost"
    message["Subject"] = _one_line(digest.subject)
    message["From"] = Address("monitor", addr_spec=config.digest.sender)
    message["To"] = ", ".join(config.digest.recipients) or config.digest.sender
    message["Date"] = email.utils.format_datetime(digest.generated)
    message["Message-ID"] = email.utils.make_msgid("digest", domain=sender_domain)
    message["List-Id"] = f"monitor digest <digest.monitor.{sender_domain}>"
    message.set_content(render_text(config, digest))
    message.add_alternative(html, subtype="html")
    return message, html


def _one_line(text: str) -> str:
    """No CR/LF from feed content may reach a header."""
    return " ".join(text.split())
