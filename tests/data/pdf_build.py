"""Build small PDFs with reportlab at test time (no binary fixtures in the repository).

Each page is a list of lines drawn exactly as given, so a test decides where lines break, the
way a typesetter breaks a URL at the right margin.
"""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib import pdfencrypt
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

# Fonts with Cyrillic glyphs (the built-in Helvetica has none); tests skip when none is installed.
_CYRILLIC_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
)


def cyrillic_font() -> str | None:
    """The name of a registered TTF font that has Cyrillic letters, or None."""
    for path in _CYRILLIC_FONTS:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont("CyrillicSans", path))
            return "CyrillicSans"
    return None


def build_pdf(
    pages: list[list[str]],
    *,
    title: str | None = None,
    font: str = "Helvetica",
    user_password: str | None = None,
    draw_text: bool = True,
    dc_dates: list[str] | None = None,
) -> bytes:
    """A PDF whose pages hold ``pages`` (one string per line). With ``user_password`` set (may be
    ""), the file is encrypted; with ``draw_text`` False only shapes are drawn (a 'scan').
    ``dc_dates`` are written, as given, into XMP metadata as ``dc:date`` (reportlab writes no XMP,
    so pypdf adds it). reportlab always sets the Info ``/CreationDate`` to now."""
    out = io.BytesIO()
    encrypt = None
    if user_password is not None:
        encrypt = pdfencrypt.StandardEncryption(user_password, ownerPassword="owner-secret")
    pdf = canvas.Canvas(out, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        if draw_text:
            pdf.setFont(font, 9)
            y = 800
            for line in lines:
                pdf.drawString(40, y, line)
                y -= 12
        else:
            pdf.rect(40, 400, 300, 300, fill=1)  # an image-like block, no text layer
        pdf.showPage()
    pdf.save()
    if dc_dates is not None:
        return _with_xmp_dates(out.getvalue(), dc_dates)
    return out.getvalue()


def _with_xmp_dates(data: bytes, dc_dates: list[str]) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.xmp import XmpInformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    xmp = XmpInformation.create()
    xmp.dc_date = list(dc_dates)  # strings are written as they are: "2023-01" stays a month
    writer.xmp_metadata = xmp
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- typeset layouts ------------------------------------------------------------------------------
#
# The builders below set text the way report typesetters do: words wrapped to a column width by
# their real widths, URLs broken where url.sty and InDesign break them (after / - . _ ? & =, else
# anywhere), notes flowing from column to column and page to page under running headers and
# footers, and link annotations (reportlab's linkURL) on the text they link.

PAGE_W, PAGE_H = 595.0, 842.0
_URL = ("http://", "https://", "www.")
_URL_BREAKS = "/-._?&="


class Page:
    """What is drawn on one page: text at positions, and link rectangles."""

    def __init__(self) -> None:
        self.texts: list[tuple[float, float, str, float, str]] = []   # x, y, text, size, font
        self.links: list[tuple[tuple[float, float, float, float], str]] = []

    def text(self, x: float, y: float, text: str, size: float, font: str = "Helvetica") -> None:
        self.texts.append((x, y, text, size, font))

    def link(self, x: float, y: float, text: str, size: float, uri: str, font: str = "Helvetica") -> None:
        w = pdfmetrics.stringWidth(text, font, size)
        self.links.append(((x, y - 0.25 * size, x + w, y + 0.9 * size), uri))


def render(pages: list[Page], *, title: str | None = None) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(PAGE_W, PAGE_H))
    if title:
        pdf.setTitle(title)
    for page in pages:
        for x, y, text, size, font in page.texts:
            pdf.setFont(font, size)
            pdf.drawString(x, y, text)
        for rect, uri in page.links:
            pdf.linkURL(uri, rect, relative=0)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def wrap(text: str, width: float, size: float, font: str = "Helvetica") -> list[str]:
    """Greedy word wrap; a word too long for the rest of the line (a URL) is broken inside."""
    def fits(s: str) -> bool:
        return pdfmetrics.stringWidth(s, font, size) <= width

    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if fits(candidate):
            line = candidate
            continue
        if line and (not word.startswith(_URL) or fits(word)) and len(line) > 0:
            lines.append(line)
            line = ""
            if fits(word):
                line = word
                continue
        prefix = f"{line} " if line else ""
        while not fits(prefix + word):
            cut = _url_cut(prefix, word, fits)
            if cut <= 0:
                lines.append(prefix.rstrip())
                prefix = ""
                continue
            lines.append(prefix + word[:cut])
            prefix, word = "", word[cut:]
        line = prefix + word
    if line:
        lines.append(line)
    return [ln for ln in lines if ln]


def _url_cut(prefix: str, word: str, fits) -> int:  # type: ignore[no-untyped-def]
    """Where to break ``word`` so that ``prefix + word[:cut]`` fits: after a URL break
    character if one fits, else as many characters as fit."""
    most = 0
    while most < len(word) and fits(prefix + word[: most + 1]):
        most += 1
    scheme = word.find("://")
    if most < 4 or (scheme >= 0 and most < scheme + 3):
        return 0  # nobody breaks inside "https://": the URL moves to the next line
    for k in range(most, max(most - 25, 0), -1):
        if word[k - 1] in _URL_BREAKS and k < len(word):
            return k
    return most


class Flow:
    """Lines poured into columns, column after column, page after page, under a running header
    and a footer ("{n}" in them is the page number). ``breaks`` records each line that ended a
    column or a page, so a test can check that URLs were broken there."""

    def __init__(self, *, columns: int, size: float, lines_per_column: int,
                 header: str | None = None, footer: str | None = "{n}",
                 font: str = "Helvetica", first_page: int = 1) -> None:
        self.columns, self.size, self.font = columns, size, font
        self.lines_per_column = lines_per_column
        self.header, self.footer = header, footer
        self.leading = size * 1.25
        gutter = 20.0
        self.width = (PAGE_W - 100 - gutter * (columns - 1)) / columns
        self.xs = [50 + k * (self.width + gutter) for k in range(columns)]
        self.pages: list[Page] = []
        self.column, self.row = columns, 0  # full: the first line opens a page
        self.breaks: list[tuple[str, str]] = []  # ("column" | "page", the line before the break)
        self.last_line = ""
        self.first_page = first_page

    def new_page(self) -> None:
        page = Page()
        n = len(self.pages) + self.first_page
        if self.header:
            page.text(50, PAGE_H - 40, self.header.format(n=n), 8, self.font)
        if self.footer:
            page.text(PAGE_W / 2, 30, self.footer.format(n=n), 8, self.font)
        self.pages.append(page)
        self.column, self.row = 0, 0

    def end_column(self) -> None:
        self.row = self.lines_per_column

    def place(self, indent: float = 0.0, *, same_row: bool = False) -> tuple[Page, float, float]:
        """The page and position of the next line (``same_row``: beside the last one)."""
        if same_row:
            self.row -= 1
        elif self.row >= self.lines_per_column or self.column >= self.columns:
            kind = "column" if self.column + 1 < self.columns else "page"
            if self.pages and self.last_line:
                self.breaks.append((kind, self.last_line))
            if kind == "column":
                self.column, self.row = self.column + 1, 0
            else:
                self.new_page()
        y = PAGE_H - 70 - self.row * self.leading
        self.row += 1
        return self.pages[-1], self.xs[self.column] + indent, y

    def line(self, text: str, *, indent: float = 0.0, size: float | None = None,
             same_row: bool = False, links: dict[str, str] | None = None,
             urls_of: str | None = None) -> None:
        """One line; ``links`` maps phrases on it to the URIs they link; with ``urls_of`` (the
        whole note) every URL or URL piece on it is linked as hyperref does."""
        size = size or self.size
        page, x, y = self.place(indent, same_row=same_row)
        page.text(x, y, text, size, self.font)
        self.last_line = text
        for phrase, uri in (links or {}).items():
            at = text.find(phrase)
            if at >= 0:
                dx = pdfmetrics.stringWidth(text[:at], self.font, size)
                page.link(x + dx, y, phrase, size, uri, self.font)
        if urls_of:
            for word in text.split():
                piece = word.rstrip(".,;")
                uri = _url_containing(urls_of, piece)
                if uri:
                    dx = pdfmetrics.stringWidth(text[: text.find(word)], self.font, size)
                    page.link(x + dx, y, piece, size, uri, self.font)

    def paragraph(self, text: str, *, size: float | None = None) -> None:
        for line in wrap(text, self.width, size or self.size, self.font):
            self.line(line, size=size)

    def note(self, label: str, text: str, *, style: str, links: dict[str, str] | None = None,
             annotate_urls: bool = False) -> None:
        """One note: ``style`` "alone" (number on its own line, hanging indent: the number at the
        margin, the text beside and under it), "start" (``12 Text``), "dot" (``12. Text``),
        "bracket" (``[12] Text``) or "glued" (``12“Text``)."""
        urls_of = text if annotate_urls else None
        if style == "alone":
            indent = 14.0
            self.line(label)
            for k, line in enumerate(wrap(text, self.width - indent, self.size, self.font)):
                self.line(line, indent=indent, same_row=k == 0, links=links, urls_of=urls_of)
            return
        lead = {"start": f"{label} ", "dot": f"{label}. ", "bracket": f"[{label}] ",
                "glued": label}[style]
        for line in wrap(lead + text, self.width, self.size, self.font):
            self.line(line, links=links, urls_of=urls_of)


def _url_containing(text: str, piece: str) -> str | None:
    """The URL of ``text`` that ``piece`` (a whole URL or a broken part of one) belongs to."""
    for word in text.split():
        url = word.rstrip(".,;")
        if url.startswith(_URL) and len(piece) >= 3 and piece in url:
            return url
    return None
