"""
Errors raised by citations/.

* CitationsError
  + UnreadableDocument - missing, empty, binary, undecodable or malformed file
  + UnsupportedFormat  - no parser for this kind of file

A document with no citations is not an error: it parses to an empty tuple.
"""

from __future__ import annotations


class CitationsError(Exception):
    "Base class: a document could not be turned into citations"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnreadableDocument(CitationsError):
    "The file is missing, empty, binary, undecodable or malformed"


class UnsupportedFormat(CitationsError):
    "citewatch has no parser for this kind of file"
