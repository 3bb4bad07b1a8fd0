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
