"""The command line: `monitor run`, `daemon`, `digest`, `feeds`, `status`, `parse` and the rest.

Takes the arguments; reads the config (`config`), drives the stages through
`service`, and reports in one line per outcome, or one line naming the
file, feed or key at fault. Also edits the config file for the feed
commands (`manage`, `config_editor`, `opml`) and shows status and progress.
Each command imports the stages it needs when it runs, so
``monitor --help`` starts at once.
"""

from .program import main, run

__all__ = ["main", "run"]
