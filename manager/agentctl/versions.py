"""Gallery image versions (``major.minor.patch``) in numeric order."""

from __future__ import annotations


def version_key(name: str) -> tuple[int, ...]:
    """Gallery image versions (``major.minor.patch``) in numeric order; other names first."""
    try:
        return tuple(int(p) for p in name.split("."))
    except ValueError:
        return (-1,)
