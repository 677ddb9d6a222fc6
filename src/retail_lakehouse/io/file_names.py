"""Which landing files a feed reads: never a file still being written (`x.csv.part`, `x.tmp`).

Spark's file sources already pass over names starting with `_` or `.` (hidden and marker files) but have
no option to leave out names by ending; they take one include pattern (`pathGlobFilter`, Hadoop's glob
syntax). A glob cannot say "does not end with", so the pattern is built from the endings: a name passes
when, read from its end, it leaves every ending before the ending is complete.
"""

from __future__ import annotations

from collections.abc import Sequence

_GLOB_SPECIAL = set("\\[]{}*?,!^")


def _literal(text: str) -> str:
    return "".join(f"\\{char}" if char in _GLOB_SPECIAL else char for char in text)


def glob_excluding_endings(endings: Sequence[str]) -> str:
    """A Hadoop glob matching every file name that does not end with one of `endings`."""
    if not endings or any(not ending for ending in endings):
        raise ValueError("endings must be non-empty strings")
    reversed_endings = {ending[::-1] for ending in endings}
    alternatives: list[str] = []

    def walk(tail_reversed: str) -> None:
        # Names ending in `tail` (read backwards: tail_reversed) that no ending is complete in yet.
        if tail_reversed in reversed_endings:
            return
        following = sorted(
            {
                e[len(tail_reversed)]
                for e in reversed_endings
                if e.startswith(tail_reversed) and len(e) > len(tail_reversed)
            }
        )
        tail = _literal(tail_reversed[::-1])
        chars = "".join(_literal(c) for c in following)
        alternatives.append(f"*[!{chars}]{tail}")
        if tail:
            alternatives.append(tail)  # the whole name is the tail: shorter than any ending it starts
        for char in following:
            walk(tail_reversed + char)

    walk("")
    return "{" + ",".join(alternatives) + "}"
