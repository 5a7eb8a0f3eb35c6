"""Entry point of a node whose component has not landed yet: says so, instead of pretending."""

from __future__ import annotations

import sys


def unavailable(executable: str, what: str) -> int:
    """Prints one line naming the missing component and returns exit code 1."""
    print(
        f'{executable}: {what} is not implemented in this version of astro_slam; '
        'this node cannot run yet.',
        file=sys.stderr,
    )
    return 1
