"""Real items of every outlet of the archive family, through their adapters.

``archive/`` holds two shortened real items per outlet, from two different
development months where the archive has them (see
``make_archive_fixtures.py``), each beside the golden record of what its
adapter makes of it. The golden records were written from the adapters'
output and checked by reading each item: change one only after reading its
item again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli.commands import article_record
from monitor.models import Article
from monitor.parse.adapters import adapter_for
from monitor.parse.archive import archived_item_to_item, read_archived_item

ARCHIVE = Path(__file__).resolve().parent / "archive"
FIXTURES = json.loads((ARCHIVE / "items.json").read_text(encoding="utf-8"))
FETCHED = datetime(2021, 6, 1, tzinfo=UTC)


def adapted(name: str) -> tuple[str, Article]:
    text = (ARCHIVE / f"{name}.md").read_text(encoding="utf-8")
    item = archived_item_to_item(f"{name}.md", read_archived_item(text, f"{name}.md"))
    adapter = adapter_for(item.url)
    return adapter.name, adapter.adapt(item, "folder feed", FETCHED)


def record(name: str) -> dict[str, object]:
    adapter, article = adapted(name)
    fields = article_record(article)
    del fields["html"], fields["images"]  # the markup is the seeds' golden files' to check
    return {"item": FIXTURES[name], "adapter": adapter, **fields, "text": article.text.split("\n")}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_archive_item_matches_its_golden_record(name: str) -> None:
    expected = json.loads((ARCHIVE / f"{name}.json").read_text(encoding="utf-8"))
    assert record(name) == expected


def test_every_outlet_has_items_of_two_months_or_two_items_of_its_one() -> None:
    outlets: dict[str, set[str]] = {}
    for name, path in FIXTURES.items():
        outlets.setdefault(name.rsplit("-", 1)[0], set()).add(path)
    assert len(outlets) == 18
    for outlet, paths in outlets.items():
        assert len(paths) == 2, outlet
        months = {path.split("/")[1][:7] for path in paths}
        assert len(months) == 2 or outlet == "金融时报", outlet  # the archive has FT in July only


def test_no_item_keeps_a_byline_or_an_email_date_as_text() -> None:
    for name in FIXTURES:
        _, article = adapted(name)
        first = article.text.split("\n")[0]
        assert not first.endswith(" GMT"), name
        for author in article.authors:
            assert author not in article.text.split("\n"), (name, author)
