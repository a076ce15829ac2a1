"""The line of a key such as ``feeds[2].url`` in the raw TOML text, for messages."""

from __future__ import annotations

import re


class KeyLines:
    """Find the line of a key such as ``feeds[2].url`` in the raw TOML text.

    tomllib keeps no positions, so the text is scanned for table headers and
    ``key =`` lines; good enough to point a user at the right line.
    """

    _header = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    _key = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        table = ""
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_multiline:
                in_multiline = quotes % 2 == 0
                continue
            header = self._header.match(line)
            if header:
                name = header.group(2).strip()
                if header.group(1) == "[[":
                    index = counts.get(name, -1) + 1
                    counts[name] = index
                    table = f"{name}[{index}]"
                else:
                    table = name
                self.lines.setdefault(table, number)
                continue
            key = self._key.match(line)
            if key:
                name = key.group(1).strip("\"'")
                self.lines.setdefault(f"{table}.{name}" if table else name, number)
            in_multiline = quotes % 2 == 1

    def line(self, key: str) -> int | None:
        """The line of `key`; of an array's element (``feeds[1].topics[1]``), its
        array's key's; else its table's."""
        while key:
            if key in self.lines:
                return self.lines[key]
            element = re.fullmatch(r"(.+\.[^.\[]+)\[\d+\]", key)
            if element and element.group(1) in self.lines:
                return self.lines[element.group(1)]
            key = key.rpartition(".")[0]
        return None
