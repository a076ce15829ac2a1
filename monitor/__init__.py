"""monitor: watch news feeds, collapse reposts, send one digest a day."""

__version__ = "0.1.0"
