"""Edit the TOML config in place (`monitor feeds …`, `import-opml`), keeping the
user's comments and layout (tomlkit). Every edit is checked by loading the
result before it replaces the file, so a command never leaves a broken config.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from ..config import load_config, local_path
from ..errors import ConfigError
from ..urls import canonical_url


class ConfigEditor:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.document = tomlkit.parse(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read config file: {e.strerror}") from e
        except tomlkit.exceptions.ParseError as e:
            raise ConfigError(f"{path}:{e.line}: invalid TOML: {e}") from e

    def _array(self, key: str) -> AoT:
        if key not in self.document:
            self.document.append(key, tomlkit.aot())
        value = self.document[key]
        if not isinstance(value, AoT):
            raise ConfigError(f"{self.path}: {key}: must be an array of tables ([[{key}]])")
        return value

    def feed_names(self) -> list[str]:
        return [str(t.get("name", "")) for t in self._array("feeds")]

    def feed_called(self, name_or_url: str) -> str:
        """The name of the feed named `name_or_url`, or else at that URL (as `feeds list`
        shows it, or the same page spelt otherwise)."""
        names = self.feed_names()
        if name_or_url in names:
            return name_or_url
        wanted = canonical_url(name_or_url)
        base = self.path.parent
        here = local_path(name_or_url, base)
        at = [
            str(table.get("name", ""))
            for table in self._array("feeds")
            if str(table.get("url", "")) in (name_or_url, wanted)
            or canonical_url(str(table.get("url", ""))) == wanted
            or (here is not None and _same_file(here, local_path(str(table.get("url", "")), base)))
        ]
        if len(at) == 1:
            return at[0]
        if len(at) > 1:
            raise ConfigError(
                f"{self.path}: feeds {', '.join(map(repr, at))} are all at {name_or_url}; "
                "name the one you mean"
            )
        known = ", ".join(names) or "none"
        raise ConfigError(f"{self.path}: no feed named or at {name_or_url!r} (feeds: {known})")

    def feed(self, name: str) -> Table:
        for table in self._array("feeds"):
            if table.get("name") == name:
                found: Table = table
                return found
        known = ", ".join(self.feed_names()) or "none"
        raise ConfigError(f"{self.path}: no feed named {name!r} (feeds: {known})")

    def refuse_taken(self, name: str) -> None:
        if name in self.feed_names():
            raise ConfigError(f"{self.path}: a feed named {name!r} exists already")

    def add_feed(self, values: dict[str, Any]) -> None:
        self.refuse_taken(values["name"])
        table = tomlkit.table()
        for key, value in values.items():
            if value not in (None, (), []):
                table[key] = list(value) if isinstance(value, tuple) else value
        self._append("feeds", table)

    def _append(self, key: str, table: Table) -> None:
        """`table` at the end of the array of tables `key`, a blank line before it."""
        tables = self._array(key)
        if len(tables) and not tables[-1].as_string().endswith("\n\n"):
            tables[-1].add(tomlkit.nl())
        tables.append(table)

    def remove_feed(self, name: str) -> None:
        self.feed(name)  # says which feeds there are when the name is wrong
        feeds = self._array("feeds")
        del feeds[self.feed_names().index(name)]

    def topic_names(self) -> list[str]:
        return (
            [str(t.get("name", "")) for t in self._array("topics")]
            if "topics" in self.document
            else []
        )

    def add_topic(self, name: str) -> None:
        """A topic that only a feed's default topics select (no keywords)."""
        table = tomlkit.table()
        table["name"] = name
        table["keywords"] = []
        self._append("topics", table)

    def save(self) -> None:
        """Write atomically, but only a config that loads."""
        text = tomlkit.dumps(self.document)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=".config-", suffix=".toml"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            try:
                load_config(temporary)
            except ConfigError as e:
                raise ConfigError(str(e).replace(temporary, str(self.path))) from e
            if self.path.exists():
                os.chmod(temporary, self.path.stat().st_mode & 0o7777)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _same_file(one: Path, other: Path | None) -> bool:
    """Whether two local feed paths ("samples/dw.xml", "./samples/dw.xml") are one."""
    return other is not None and os.path.normpath(one.absolute()) == os.path.normpath(
        other.absolute()
    )
