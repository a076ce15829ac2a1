"""The progress bar `monitor run` shows in a terminal (rich)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..service import FeedReport


class RunProgress:
    def __init__(self, feeds: int) -> None:
        self.new = self.reposts = self.failed = 0
        self.progress = Progress(
            TextColumn("[bold]feeds"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task(self._text(), total=feeds)

    def _text(self) -> str:
        return f"{self.new:,} new · {self.reposts:,} reposts collapsed · {self.failed} failed"

    def feed_done(self, report: FeedReport) -> None:
        self.new += report.new
        self.reposts += report.reposts
        self.failed += bool(report.error)
        self.progress.update(self.task, advance=1, description=self._text())

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.progress.stop()
