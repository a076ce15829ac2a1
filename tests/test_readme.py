"""The README cannot drift from the program: what can be checked mechanically is.

The commands and options it names exist, every command's ``--help`` ends with
an example, the schema version it quotes is the current one, and the exit
statuses it lists are those the program uses.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from monitor.cli.arguments import build_parser
from monitor.errors import MonitorError
from monitor.store import SCHEMA_VERSION

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def parsers() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command's parser by its path (``("feeds", "add")``), the top one at ()."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
        found[path] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk((*path, name), sub)

    walk((), build_parser())
    return found


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_every_command_help_ends_with_an_example() -> None:
    for path, parser in parsers().items():
        if not path:
            continue
        last = parser.format_help().rstrip().split("\n\n")[-1]
        assert last.startswith("example"), path
        assert f"monitor {' '.join(path)}" in last, path


def test_every_command_and_option_the_readme_names_exists() -> None:
    known = parsers()
    named = re.findall(r"`(monitor [^`]+)`", README)
    assert len(named) > 20
    checked = 0
    for snippet in named:
        words = shlex.split(snippet.replace("…", ""))[1:]
        path: tuple[str, ...] = ()
        while words and (*path, words[0]) in known:
            path = (*path, words.pop(0))
        assert path or words[0].startswith("-"), snippet
        allowed = options(known[path]) | options(known[()])
        for word in words:
            if word.startswith("--") or re.fullmatch(r"-[a-z]", word):
                assert word.split("=")[0] in allowed, (snippet, word)
                checked += 1
    assert checked > 5


def test_the_schema_version_the_readme_quotes_is_the_current_one() -> None:
    quoted = {int(n) for n in re.findall(r"schema version (\d+)", README)}
    assert quoted == {SCHEMA_VERSION}


def test_the_exit_statuses_the_readme_lists_are_those_the_program_uses() -> None:
    paragraph = " ".join(README.split("Exit status: ", 1)[1].split("\n\n", 1)[0].split())
    listed = {int(n) for n in re.findall(r"(?:^|[;:] )(\d+) (?:when|for)", paragraph)}

    def tree(cls: type[MonitorError]) -> list[type[MonitorError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in tree(child))]

    used = {cls.exit_code for cls in tree(MonitorError)} | {0, 2, 130}  # 2: argparse's usage
    assert listed == used
