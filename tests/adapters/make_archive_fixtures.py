"""Rebuild the archive fixtures in ``archive/`` from a mirror of zhouxiang93123/waimei.

    python tests/adapters/make_archive_fixtures.py MIRROR [--pick]

Each fixture is one real item of the development months, shortened: the
article's first three blocks and its last eight (where bylines, credits,
appeals and related links sit) are kept, the blocks between them dropped, so
that a fixture is a few kB. ``FIXTURES`` names the items; ``--pick`` chooses
anew, per outlet and per half of the development months, an item of 300 to
3,000 characters whose furniture the adapter removes, and prints the list.
With ``--golden`` it also writes each fixture's golden record
(``archive/NAME.json``) from the adapters' output: read each fixture and its
record before committing one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
sys.path.insert(0, str(HERE))

from archive import items  # noqa: E402

from monitor.parse import adapter_for, archived_item_to_item, read_archived_item  # noqa: E402
from monitor.parse.adapters import markup  # noqa: E402

FIXTURES = json.loads((HERE / "archive" / "items.json").read_text(encoding="utf-8"))
"""Fixture name → the item's path in the archive."""
KEEP_HEAD, KEEP_TAIL = 3, 8


def shortened(text: str) -> str:
    """The item with the blocks between its first three and last eight dropped."""
    head, rule, body = text.partition("\n------\n")
    root = markup.parse_fragment(body)
    blocks = [b for b in markup.leaf_blocks(root) if markup.text_of(b)]
    for block in blocks[KEEP_HEAD:-KEEP_TAIL] if len(blocks) > KEEP_HEAD + KEEP_TAIL else []:
        markup.remove(block)
    inner = etree.tostring(root, method="html", encoding="unicode")
    return f"{head}{rule}\n{inner}\n"


def pick(mirror: Path) -> dict[str, str]:
    """Per outlet, the item that loses most furniture in each of its two busiest
    months (two items of its one month, for an outlet the archive has in one)."""
    ranked: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for archived in items(mirror):
        item = archived_item_to_item(archived.path, read_archived_item(archived.text))
        adapter = adapter_for(item.url)
        raw = markup.paragraphs(markup.parse_fragment(item.html))
        text = adapter.adapt(item, archived.outlet, _later(item), with_html=False).text
        removed = len(raw) - len(text.split("\n"))
        if 200 <= len(text) <= 4000:
            key = (archived.outlet, archived.month)
            ranked.setdefault(key, []).append((removed * 10_000 - len(text), archived.path))
    chosen: dict[str, str] = {}
    for outlet in sorted({outlet for outlet, _ in ranked}):
        months = sorted(
            (m for o, m in ranked if o == outlet), key=lambda m: -len(ranked[outlet, m])
        )
        picks = [max(ranked[outlet, month]) for month in months[:2]]
        if len(picks) == 1:
            picks = sorted(ranked[outlet, months[0]], reverse=True)[:2]
        for letter, (_, path) in zip("ab", picks, strict=False):
            chosen[f"{_slug(outlet)}-{letter}"] = path
    return chosen


def _later(item):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    return (item.published or datetime(2030, 1, 1, tzinfo=UTC)) + timedelta(days=1)


def _slug(outlet: str) -> str:
    return "".join(c for c in outlet if c.isalnum()) or "outlet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--pick", action="store_true", help="choose the items anew")
    parser.add_argument("--golden", action="store_true", help="write the golden records too")
    args = parser.parse_args()
    fixtures = pick(args.mirror) if args.pick else FIXTURES
    if args.pick:
        (HERE / "archive" / "items.json").write_text(
            json.dumps(fixtures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    wanted = {path: name for name, path in fixtures.items()}
    months = tuple(sorted({path.split("/")[1][:7] for path in wanted}))
    for archived in items(args.mirror, months):
        if archived.path in wanted:
            target = HERE / "archive" / f"{wanted[archived.path]}.md"
            target.write_text(shortened(archived.text), encoding="utf-8")
            print(target.name)
    if args.golden:
        from test_archive_golden import record

        for name in fixtures:
            golden = HERE / "archive" / f"{name}.json"
            golden.write_text(
                json.dumps(record(name), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )


if __name__ == "__main__":
    main()
