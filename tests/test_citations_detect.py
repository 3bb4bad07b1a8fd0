"""Format detection and text decoding: suffixes, content sniffing, legacy encodings, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from citations import (
    DocumentFormat,
    UnreadableDocument,
    UnsupportedFormat,
    parse_bytes,
    parse_document,
)
from citations.detect import KNOWN_SUFFIXES, decode_text, detect_format

EXAMPLES = Path(__file__).parent.parent / "examples"

RUSSIAN = """# Цифровой изоляционизм России

Около 100 тысяч IT-специалистов покинули страну в 2022 году.[^1] Рунет всё больше
отделяется от глобального интернета.[^2]

[^1]: «Около 100 тысяч IT-специалистов покинули Россию в 2022 году», Интерфакс, 20 декабря 2022,
    https://www.interfax.ru/russia/877000.
[^2]: «Интернет в России», Википедия, https://ru.wikipedia.org/wiki/Интернет_в_России.
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.txt", DocumentFormat.PLAINTEXT),
        ("REPORT.TXT", DocumentFormat.PLAINTEXT),
        ("notes.md", DocumentFormat.MARKDOWN),
        ("notes.markdown", DocumentFormat.MARKDOWN),
        ("page.html", DocumentFormat.HTML),
        ("page.htm", DocumentFormat.HTML),
        ("paper.pdf", DocumentFormat.PDF),
        ("refs.bib", DocumentFormat.BIBTEX),
        ("thesis.tex", DocumentFormat.PLAINTEXT),
        ("README", DocumentFormat.PLAINTEXT),
    ],
)
def test_format_from_suffix(name: str, expected: DocumentFormat) -> None:
    assert detect_format(name, b"Some words and https://example.org/\n") is expected


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        # unmistakable content wins over a misleading name
        ("saved.txt", b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body></body></html>",
         DocumentFormat.HTML),
        ("page.md", b'<?xml version="1.0"?>\n<!-- saved -->\n<html xmlns="http://www.w3.org/1999/xhtml">',
         DocumentFormat.HTML),
        ("download.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", DocumentFormat.PDF),
        # no suffix: BibTeX entries and Markdown footnotes are recognised, prose is plain text
        ("references", b"% refs\n@article{key,\n  title = {T}\n}\n", DocumentFormat.BIBTEX),
        ("notes", b"Text.[^1]\n\n[^1]: Source https://example.org/\n", DocumentFormat.MARKDOWN),
        ("notes.org", b"Just prose, https://example.org/\n", DocumentFormat.PLAINTEXT),
    ],
)
def test_format_from_content(name: str, head: bytes, expected: DocumentFormat) -> None:
    assert detect_format(name, head) is expected


def test_markdown_that_mentions_html_stays_markdown() -> None:
    head = (
        b"# Embedding\n\nWrite `<html>` and `<head>` tags like this:\n\n"
        b"```\n<html><body></body></html>\n```\n"
    )
    assert detect_format("guide.md", head) is DocumentFormat.MARKDOWN


def test_unknown_extension_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormat) as info:
        detect_format("data.xyz", b"hello")
    assert info.value.reason == "unknown format '.xyz' (use --format)"
    assert info.value.path == "data.xyz"


def test_word_document_gets_an_export_hint() -> None:
    with pytest.raises(UnsupportedFormat) as info:
        parse_bytes(b"PK\x03\x04" + b"\x00" * 40, path="report.docx")
    assert info.value.reason == "Word files are not read: export it as PDF, HTML or text"


def test_format_override_beats_detection() -> None:
    data = b"Claim.[^1]\n\n[^1]: Source https://example.org/a\n"
    as_markdown = parse_bytes(data, path="notes.txt", format=DocumentFormat.MARKDOWN)
    assert as_markdown.format is DocumentFormat.MARKDOWN
    assert [(c.label, c.line) for c in as_markdown.citations] == [("1", 3)]
    html = parse_bytes(b"<!doctype html><a href='https://example.org/'>x</a>", path="p.html",
                       format=DocumentFormat.MARKDOWN)
    assert html.format is DocumentFormat.MARKDOWN


def test_known_suffixes_are_what_folder_scans_pick_up() -> None:
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".bib"} <= KNOWN_SUFFIXES


# --- decoding ------------------------------------------------------------------------------------


def test_cp1251_russian_markdown_with_cyrillic_url_and_footnotes() -> None:
    data = RUSSIAN.encode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text("ru.md", data) == RUSSIAN
    parsed = parse_bytes(data, path="ru.md")
    assert parsed.title == "Цифровой изоляционизм России"
    assert [(c.label, [u.cited for u in c.urls]) for c in parsed.citations] == [
        ("1", ["https://www.interfax.ru/russia/877000"]),
        ("2", ["https://ru.wikipedia.org/wiki/Интернет_в_России"]),
    ]


def test_cp1251_plain_text_decodes() -> None:
    text = RUSSIAN.replace("[^1]", "1").replace("[^2]", "2").replace("# ", "")
    assert decode_text("ru.txt", text.encode("cp1251")) == text


def test_latin1_html_without_declared_charset_decodes() -> None:
    page = (
        "<html><head><title>R\xe9sum\xe9 des \xe9v\xe9nements</title></head><body>"
        "<p>Le num\xe9rique fran\xe7ais, \xe0 lire sur "
        "<a href='https://www.lemonde.fr/'>Le Monde</a>. "
        "Une premi\xe8re \xe9tude d\xe9taill\xe9e, tr\xe8s compl\xe8te.</p></body></html>"
    )
    parsed = parse_bytes(page.encode("latin-1"), path="page.html")
    assert parsed.title == "Résumé des événements"
    assert [c.text for c in parsed.citations] == ["Le Monde"]


def test_declared_charset_is_honoured() -> None:
    page = '<html><head><meta charset="windows-1251"><title>Рунет</title></head></html>'
    assert decode_text("p.html", page.encode("cp1251")) == page
    xml = '<?xml version="1.0" encoding="koi8-r"?><html><title>Интернет</title></html>'
    assert decode_text("p.xhtml", xml.encode("koi8-r")) == xml


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Ссылка https://ru.wikipedia.org/wiki/Рунет\n".encode("utf-8-sig"), "Ссылка https://ru.wikipedia.org/wiki/Рунет\n"),
        ("Ссылка https://example.org/\n".encode("utf-16"), "Ссылка https://example.org/\n"),
        ("Café https://example.org/\n".encode(), "Café https://example.org/\n"),
    ],
)
def test_unicode_encodings(data: bytes, expected: str) -> None:
    assert decode_text("x.txt", data) == expected


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n"])
def test_empty_file_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableDocument) as info:
        parse_bytes(data, path="empty.txt")
    assert (info.value.path, info.value.reason) == ("empty.txt", "empty file")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
         "binary file (a PNG image), not a text document"),
        (b"text\x00with\x00nul\x00bytes", "binary file (NUL bytes), not a text document"),
        (bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 20 + b"abc",
         "binary file (control characters), not a text document"),
        (b"%PDF-1.4\n" + bytes(range(256)), "binary file (a PDF), not a text document"),
    ],
)
def test_binary_file_is_unreadable_as_text(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument) as info:
        parse_bytes(data, path="file.txt", format=DocumentFormat.PLAINTEXT)
    assert info.value.reason == reason
    assert str(info.value) == f"file.txt: {reason}"


def test_binary_with_known_suffix_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "photo.md"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    with pytest.raises(UnreadableDocument, match=r"binary file \(a JPEG image\)"):
        parse_document(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument, match="no such file"):
        parse_document(tmp_path / "missing.txt")
    with pytest.raises(UnreadableDocument, match="is a directory"):
        parse_document(tmp_path)


def test_examples_are_detected() -> None:
    expected = {
        "notes.md": DocumentFormat.MARKDOWN,
        "page.html": DocumentFormat.HTML,
        "report.txt": DocumentFormat.PLAINTEXT,
    }
    assert {name: parse_document(EXAMPLES / name).format for name in expected} == expected
