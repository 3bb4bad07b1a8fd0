"""A PDF whose compressed content stream is corrupt says so, instead of "scanned PDF?".

The PDF is real: drawn by reportlab, its page content re-compressed by pypdf as one plain
FlateDecode stream, then bytes inside that stream overwritten (same length, so the
cross-reference table still points at the right places). pypdf does not raise for it: it logs a
warning and reads the page as empty.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from checker.cli.main import get_cli
from citations import UnreadableDocument, parse_bytes
from tests.data.pdf_build import build_pdf

LINES = ["1 Ministry, “Annual report,” 2021, https://example.com/report"] * 10


def _flate_pdf(*, draw_text: bool = True) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(build_pdf([LINES], draw_text=draw_text))))
    for page in writer.pages:
        page.replace_contents(page.get_contents())
        page.compress_content_streams()  # one /FlateDecode stream, no ASCII85 in front
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _corrupted(data: bytes) -> bytes:
    stream = re.search(rb"/Filter /FlateDecode\s*/Length \d+\s*>>\s*stream\r?\n", data)
    assert stream is not None, "no plain Flate stream to corrupt"
    damaged = bytearray(data)
    for i in range(stream.end() + 10, stream.end() + 40):  # inside the deflate data
        damaged[i] = (damaged[i] * 7 + 13) % 256
    return bytes(damaged)


def test_the_intact_file_reads() -> None:
    parsed = parse_bytes(_flate_pdf(), path="report.pdf")
    assert parsed.citations


def test_a_corrupt_flate_content_stream_is_named_as_the_damage() -> None:
    with pytest.raises(UnreadableDocument) as raised:
        parse_bytes(_corrupted(_flate_pdf()), path="report.pdf")
    assert str(raised.value) == (
        "report.pdf: damaged PDF: compressed (Flate) stream data does not decode (Error -3 while "
        "decompressing data: invalid code lengths set), so no text could be read"
    )


def test_a_pdf_without_text_is_still_called_scanned() -> None:
    with pytest.raises(UnreadableDocument, match=r"no text layer \(scanned PDF\?\)$"):
        parse_bytes(_flate_pdf(draw_text=False), path="scan.pdf")


def test_scan_gives_the_damage_in_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.pdf").write_bytes(_corrupted(_flate_pdf()))
    result = CliRunner().invoke(get_cli(), ["scan", "report.pdf"], catch_exceptions=False)
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "report.pdf: damaged PDF: compressed (Flate) stream data does not decode" in errors[0]
