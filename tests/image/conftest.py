"""Fixtures of the agent image tests (defined in imagekit.py)."""

from imagekit import box, server

__all__ = ["box", "server"]
