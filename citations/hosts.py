"""The scheme, network location and host of a URL, the quick way.

A module of its own, below both ``citations.models`` (``Link.host``) and ``citations.urls``
(which builds Links), so that neither imports the other in a circle.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def scheme_and_netloc(url: str) -> tuple[str, str]:
    """`urlsplit(url)`'s scheme and netloc (the netloc as written, user and port included).

    Asked several times about every checked URL, so the common shape (scheme://netloc/…) is
    split by hand, at a fifth of urlsplit's cost; anything else goes to urlsplit."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.isalpha():
        return scheme.lower(), rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def host_of(url: str) -> str:
    """The host (IDNA, lower case) of a normalised URL: `urlsplit(url).hostname`, lower-cased;
    "" for text that does not split into a URL (``http://[::1/page``), never an exception."""
    _, netloc = scheme_and_netloc(url)
    if "@" in netloc or "[" in netloc:  # a user or an IPv6 literal: urlsplit takes them apart
        try:
            return (urlsplit(url).hostname or "").lower()
        except ValueError:  # an unclosed IPv6 bracket
            return ""
    return netloc.split(":", 1)[0].lower()


__all__ = ["host_of", "scheme_and_netloc"]
