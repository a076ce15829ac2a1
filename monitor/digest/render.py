"""Render a `Digest` with the jinja2 templates and compose the email.

Templates are looked up first in the digest's ``templates`` folder (if set),
then in the ones shipped with `monitor`, so a user can override one file and
keep the other. The message is multipart/alternative: a plain-text part that
reads well alone, and an HTML part whose CSS is inlined (css-inline), since
many mail clients drop ``<style>``; the ``<style>`` block stays for the
clients that honour it (dark mode, narrow screens).
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import traceback
from collections import Counter
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import jinja2

from ..config import Config, DigestConfig
from ..errors import ConfigError
from ..models import Digest

ALSO_LABEL = "也见于"
RELATED_LABEL = "相关报道"
UPDATED_LABEL = "〔更新〕"
FOOTER = "monitor · 每日摘要"
SENDER_NAME = "monitor 每日摘要"


def more_related(outlets: tuple[str, ...]) -> str:
    """The line naming the related entries left out, with their outlets."""
    if not outlets:
        return ""
    counts = Counter(outlets)
    named = "、".join(f"{outlet} {count} 篇" for outlet, count in counts.most_common())
    return f"另有 {len(outlets)} 篇相关报道未列出：{named}"


def expired_line(count: int) -> str:
    """The line saying how many stories waited past the window unsent."""
    return f"另有 {count} 条新闻超过去重窗口仍未发送，已略去" if count else ""


def not_shown(count: int) -> str:
    """The line closing a section with headlines left out."""
    return f"本栏另有 {count} 条新闻未列出" if count else ""


def template_dirs(digest: DigestConfig) -> list[Path]:
    package = Path(__file__).resolve().parents[1]  # monitor/
    shipped = [package / "templates", package.parent / "templates"]
    found = [d for d in shipped if (d / "digest.html.j2").exists()]
    if digest.templates is not None:
        found.insert(0, digest.templates)
    return found


def _render(digest_config: DigestConfig, digest: Digest, name: str, *, html: bool) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(digest_config)]),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    try:
        return environment.get_template(name).render(
            digest=digest,
            also_label=ALSO_LABEL,
            related_label=RELATED_LABEL,
            updated_label=UPDATED_LABEL,
            more_related=more_related,
            not_shown=not_shown,
            expired_line=expired_line,
            footer=FOOTER,
            lang="zh-Hans",
        )
    except jinja2.TemplateNotFound as e:
        raise ConfigError(f"digest.templates: template {e.name} not found") from e
    except jinja2.TemplateError as e:
        # A syntax error carries its place; an undefined name, met as the template
        # runs, has it in the traceback.
        lineno = getattr(e, "lineno", None)
        filename = getattr(e, "filename", None)
        where = f"{filename or name}:{lineno}" if lineno else _template_line(e, name)
        raise ConfigError(f"{where}: digest template error: {e.message}") from e
    except Exception as e:  # noqa: BLE001 - an expression of a template failed as it ran
        failed = f"{type(e).__name__}: {e}"
        raise ConfigError(f"{_template_line(e, name)}: digest template error: {failed}") from e


def _template_line(error: BaseException, name: str) -> str:
    """FILE:LINE of the template expression that raised `error` (jinja2 gives the
    template's frames its file and line), else `name`."""
    frames = traceback.extract_tb(error.__traceback__)
    found = next((f for f in reversed(frames) if f.filename.endswith(".j2")), None)
    return f"{found.filename}:{found.lineno}" if found else name


def render_html(config: Config, digest_config: DigestConfig, digest: Digest) -> str:
    import css_inline

    html = _render(digest_config, digest, "digest.html.j2", html=True)
    inliner = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
    return str(inliner.inline(html))


def render_text(config: Config, digest_config: DigestConfig, digest: Digest) -> str:
    text = _render(digest_config, digest, "digest.txt.j2", html=False)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def compose(
    config: Config, digest_config: DigestConfig, digest: Digest, recipients: list[str]
) -> tuple[EmailMessage, str]:
    """The digest as an email to `recipients`, and its HTML.

    Date, Message-ID and List-Id are set; Subject and names are encoded by the
    email package, and nothing from a feed can add a header (line breaks are
    folded to spaces).
    """
    html = render_html(config, digest_config, digest)
    message = EmailMessage()
    sender_domain = digest_config.sender.rpartition("@")[2] or "localhost"
    message["Subject"] = _one_line(digest.subject)
    message["From"] = Address(SENDER_NAME, addr_spec=digest_config.sender)
    message["To"] = ", ".join(recipients)
    message["Date"] = email.utils.format_datetime(digest.generated)
    message["Message-ID"] = email.utils.make_msgid("digest", domain=sender_domain)
    message["List-Id"] = list_id(digest.name, sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_text(config, digest_config, digest))
    message.add_alternative(html, subtype="html")
    return message, html


def list_id(name: str, domain: str) -> str:
    """The List-Id header of the digest `name` (RFC 2919), by which mail filters sort
    it: its id is ASCII letters, digits and hyphens, so a name of other characters
    ("团队 a/b") gets a hyphenated ASCII part and a short hash of itself, and is the
    header's readable phrase only when it is plain ASCII."""
    label = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    if label != name.lower():
        tag = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
        label = f"{label}-{tag}" if label else tag
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "localhost"
    phrase = f"monitor {name} " if re.fullmatch(r"[A-Za-z0-9 _-]+", name) else ""
    return f"{phrase}<{label}.digest.monitor.{domain}>"


def _one_line(text: str) -> str:
    return " ".join(text.split())
