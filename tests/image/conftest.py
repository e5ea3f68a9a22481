"""Fixtures of the agent image tests (defined in imagekit.py)."""

from imagekit import box, http_server, server, tls_cert

__all__ = ["box", "http_server", "server", "tls_cert"]
