"""How messages count things: "1 feed", "2 feeds", never "1 feeds"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, in the plural (`plural`, else noun + "s") unless it is one."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
