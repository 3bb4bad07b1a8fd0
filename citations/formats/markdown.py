"""
Citations in Markdown (CommonMark, plus the footnote extension of GitHub, pandoc and markdown-it).

What becomes a citation:

* Every footnote definition ``[^label]: …`` is one citation labelled ``label``. Its text runs on
  over indented continuation lines (4 spaces or a tab), over blank lines that are followed by an
  indented line, and over lazy continuation lines (an unindented line right after footnote text
  that does not start a new block). Its URLs are every link, autolink and bare URL in that text,
  in order. Inline links are rendered ``text (url)`` in the citation text, so the text keeps
  every URL it cites. When the text holds no quoted title, the first link's ``"title"``, else its
  link text when that has two words or more, is the cited title.
* Every link outside footnotes is one unlabelled citation (label None): inline
  ``[text](url "title")``, reference links ``[text][ref]``, ``[text][]`` and ``[text]`` with
  ``[ref]: url "title"``, autolinks ``<https://…>`` and bare URLs. Its text is the link text;
  autolinks and bare URLs have none, so theirs is the sentence around the URL. A link's
  ``"title"`` is the cited title.
* A reference definition that no link uses is still cited (label None, text = the reference
  name): no URL in the file goes unchecked.

Not citations: URLs in code spans, fenced code blocks and HTML comments; images (a link around an
image is cited); relative links, ``#fragments``, ``mailto:`` and other non-web schemes (a
destination that starts with ``www.`` is taken as the web address its author meant); YAML front
matter, which gives the document's ``title`` and ``date`` (else the title is the first level-1
heading; the date may have any precision, ``date: 2023-01`` is a month, and without one the
document is dated by what it cites, in ``citations.parse``).

Line numbers are 1-based: a footnote's is the line of its ``[^label]:``, a link's the line where
its ``[`` (or its URL) stands.

Left out: indented (4-space) code blocks (indentation also marks footnote and list continuations,
and a wrong guess would hide real links), pandoc inline notes ``^[…]``, reference definitions whose
title is on the next line, link destinations with parentheses nested two deep.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

from citations.annotation import strip_notes
from citations.dates import parse_metadata_date
from citations.formats.common import FormatResult
from citations.models import Citation
from citations.records import make_citation
from citations.urls import find_urls

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_FOOTNOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:[ \t]?(.*)$")
_REF_DEF = re.compile(
    r"""^\ {0,3}\[((?:[^\]\\]|\\.)+)\]:[ \t]*(<[^>\n]*>|\S+)"""
    r"""(?:[ \t]+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^)\\]|\\.)*\)))?[ \t]*$""",
    re.VERBOSE,
)
# Lines that start a block of their own: they end a paragraph and a lazy footnote continuation.
_BLOCK_START = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|[-*+][ \t]|\d{1,9}[.)][ \t]|>|`{3}|~{3})")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_H1 = re.compile(r"^ {0,3}=+[ \t]*$")
# The markers in front of a line's text: block quote, heading, list item.
_LINE_PREFIX = re.compile(
    r"^ {0,3}(?:>[ ]?)*(?:#{1,6}[ \t]+|[-*+][ \t]+|\d{1,9}[.)][ \t]+)?"
)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>")
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]{1,200})\]")
_BACKTICKS = re.compile(r"`+")
_BRACKET_TOKENS = re.compile(r"\\.|`+|[\[\]]", re.DOTALL)
# A link destination: no spaces, parentheses balanced one level deep (…/Foo_(bar))
_DESTINATION = re.compile(r"(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*")
_BRACKETED_DESTINATION = re.compile(r"<((?:[^<>\n\\]|\\.)*)>")
_TITLES = {
    '"': re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL),
    "'": re.compile(r"'((?:[^'\\]|\\.)*)'", re.DOTALL),
    "(": re.compile(r"\(((?:[^()\\]|\\.)*)\)", re.DOTALL),
}
_REF_LABEL = re.compile(r"\[((?:[^\[\]\\]|\\.)*)\]")
_WEB_URL = re.compile(r"(?:https?://|www\.)", re.IGNORECASE)
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
# The characters that may start inline markup (escape, code span, footnote or link, image,
# autolink); everything between them is plain text to _scan.
_INLINE_MARKS = frozenset("\\`[!<")
_INLINE_MARK = re.compile(r"[\\`\[!<]")


@dataclass(slots=True)
class _Link:
    url: str            # as cited
    text: str | None    # rendered link text; None for autolinks and bare URLs
    title: str | None   # the link's "title"
    source: int         # offset in the block's source (gives the line)
    start: int          # span of the link in the rendered text
    end: int


@dataclass(slots=True)
class _Inline:
    """A block of Markdown rendered as plain text, with the links found in it."""

    text: str = ""
    links: list[_Link] = field(default_factory=list)
    notes: list[tuple[str, int]] = field(default_factory=list)  # footnote references, source offset


@dataclass(slots=True)
class _Block:
    line: int                 # 1-based line of the block's first line
    source: str               # lines joined with "\n"
    label: str | None = None  # footnote label; None for an ordinary paragraph


@dataclass(slots=True)
class _Refs:
    """Reference definitions: normalised name -> (url, title, line, name as written)."""

    defs: dict[str, tuple[str, str | None, int, str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def get(self, name: str) -> tuple[str, str | None] | None:
        key = _ref_key(name)
        found = self.defs.get(key)
        if found is None:
            return None
        self.used.add(key)
        return found[0], found[1]


@dataclass(slots=True)
class _Spans:
    """Code spans and bracket pairs of one block, each found in one pass (so that unmatched
    ``[`` and backticks cost nothing more)."""

    code: dict[int, tuple[int, int]]  # opening backtick run -> (closing run, run length)
    brackets: dict[int, int]          # "[" -> its matching "]"


def parse(text: str) -> FormatResult:
    """The citations of a Markdown document (footnotes and outbound links), in line order."""
    text = _HTML_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    lines = re.split(r"\r\n|\r|\n", text)
    meta = _front_matter(lines)
    code = _fenced_lines(lines)
    blocks, refs = _blocks(lines, code)

    result = FormatResult()
    citations: list[Citation] = []
    defined: dict[str, int] = {}
    referenced: list[tuple[str, int]] = []
    for block in blocks:
        inline = _scan(block.source, refs, show_urls=block.label is not None)
        lines_of = _LineIndex(block)
        for name, offset in inline.notes:
            referenced.append((name, lines_of.line(offset)))
        if block.label is not None:
            if block.label in defined:
                result.warnings.append(
                    f"line {block.line}: footnote [^{block.label}] is defined again "
                    f"(first on line {defined[block.label]})"
                )
            defined.setdefault(block.label, block.line)
            citations.append(_footnote(block, inline))
        else:
            sentences = _Sentences(inline.text)
            citations.extend(
                _body_link(inline, link, lines_of, sentences) for link in inline.links
            )
    for key, (url, title, line, name) in refs.defs.items():
        if key not in refs.used and _is_web(url):
            citations.append(
                make_citation(label=None, line=line, text=name, urls=[url], title=title)
            )
    for name, line in referenced:
        if name not in defined:
            result.warnings.append(
                f"line {line}: footnote [^{name}] is referenced but never defined"
            )

    result.citations = sorted(citations, key=lambda c: c.line)
    result.title = meta.get("title") or _first_heading(lines, code)
    result.date = parse_metadata_date(meta.get("date"))
    return result


# --- blocks ------------------------------------------------------------------------------------


def _front_matter(lines: list[str]) -> dict[str, str]:
    """``key: value`` pairs of a YAML front matter block; its lines are blanked out."""
    if not lines or lines[0].strip() != "---":
        return {}
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}
    meta: dict[str, str] = {}
    for i in range(end + 1):
        m = re.match(r"^([A-Za-z_][\w-]*):[ \t]*(.*?)[ \t]*$", lines[i])
        if m and m.group(2):
            meta.setdefault(m.group(1).lower(), m.group(2).strip("\"'"))
        lines[i] = ""
    return meta


def _fenced_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fences included)."""
    code = [False] * len(lines)
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = m.group(1)
                code[i] = True
        else:
            code[i] = True
            closes = m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if closes and m is not None and not m.group(2).strip():
                fence = None
    return code


def _blocks(lines: list[str], code: list[bool]) -> tuple[list[_Block], _Refs]:
    """Split the document into paragraphs and footnote definitions; collect link definitions."""
    blocks: list[_Block] = []
    refs = _Refs()
    para: list[str] = []
    para_line = 0

    def close() -> None:
        nonlocal para
        if para:
            blocks.append(_Block(line=para_line, source="\n".join(para)))
            para = []

    i = 0
    while i < len(lines):
        line = lines[i]
        if code[i] or not line.strip():
            close()
            i += 1
            continue
        note = _FOOTNOTE_DEF.match(line)
        if note:
            close()
            body, end = _footnote_body(lines, code, i, note.group(2))
            blocks.append(_Block(line=i + 1, source="\n".join(body), label=note.group(1)))
            i = end
            continue
        ref = _REF_DEF.match(line)
        if ref:
            close()
            url = ref.group(2).removeprefix("<").removesuffix(">")
            title = ref.group(3)[1:-1] if ref.group(3) else None
            key = _ref_key(ref.group(1))
            if key not in refs.defs:  # CommonMark: the first definition wins
                refs.defs[key] = (_unescape(url), title, i + 1, ref.group(1))
            i += 1
            continue
        if _BLOCK_START.match(line):
            close()
        if not para:
            para_line = i + 1
        para.append(_LINE_PREFIX.sub(lambda m: " " * len(m.group(0)), line))
        if _HEADING.match(line):
            close()
        i += 1
    close()
    return blocks, refs


def _footnote_body(lines: list[str], code: list[bool], i: int, first: str) -> tuple[list[str], int]:
    """The lines of the footnote defined on line ``i`` (continuations unindented), and the index
    of the first line after it."""
    body = [first]
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if code[j]:
            break
        if not line.strip():
            k = j
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k < len(lines) and not code[k] and _indented(lines[k]):
                body.extend([""] * (k - j))
                j = k
                continue
            break
        if _indented(line):
            body.append(_dedent(line))
        elif body[-1].strip() and not _BLOCK_START.match(line) and not _FOOTNOTE_DEF.match(line) \
                and not _REF_DEF.match(line):
            body.append(line)  # lazy continuation of the footnote's paragraph
        else:
            break
        j += 1
    while body and not body[-1].strip():
        body.pop()
    return body, j


def _indented(line: str) -> bool:
    return line.startswith(("    ", "\t"))


def _dedent(line: str) -> str:
    return line[1:] if line.startswith("\t") else line[4:]


def _ref_key(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- inline ------------------------------------------------------------------------------------


def _scan(src: str, refs: _Refs, *, show_urls: bool = False, collect: bool = True) -> _Inline:
    """Render ``src`` (one block) as plain text and find its links.

    With ``show_urls`` an inline link renders as ``text (url)``; otherwise as its text. With
    ``collect`` False (link text, image alt text) nothing is collected, only rendered.
    """
    spans = _spans(src)
    out = _Inline()
    parts: list[str] = []
    size = 0
    plain: list[str] = []
    plain_at: list[int] = []  # source offset of each plain character

    def emit(piece: str) -> None:
        nonlocal size
        parts.append(piece)
        size += len(piece)

    def flush() -> None:
        if not plain:
            return
        run = "".join(plain)
        pos = 0
        for m in find_urls(run) if collect else []:
            emit(_strip_emphasis(run[pos:m.start]))
            if _is_web(m.url):
                link = _Link(m.url, None, None, plain_at[m.start], size, size + len(m.url))
                out.links.append(link)
            emit(m.url)
            pos = m.end
        emit(_strip_emphasis(run[pos:]))
        plain.clear()
        plain_at.clear()

    i = 0
    while i < len(src):
        c = src[i]
        if c not in _INLINE_MARKS:  # a run of plain text, taken whole (a character at a time
            mark = _INLINE_MARK.search(src, i)  # was most of the time of a long paragraph)
            end = mark.start() if mark else len(src)
            plain.extend(src[i:end])
            plain_at.extend(range(i, end))
            i = end
            continue
        if c == "\\" and i + 1 < len(src) and src[i + 1] in _ASCII_PUNCT:
            flush()
            emit(src[i + 1])
            i += 2
            continue
        if c == "`":
            flush()
            if i in spans.code:
                close, n = spans.code[i]
                emit(_code_text(src[i + n:close]))
                i = close + n
            else:
                run = _BACKTICKS.match(src, i)
                n = len(run.group(0)) if run else 1
                emit("`" * n)
                i += n
            continue
        if c == "[" and src.startswith("[^", i):
            m = _FOOTNOTE_REF.match(src, i)
            if m:
                flush()
                out.notes.append((m.group(1), i))
                i = m.end()
                continue
        if c == "[" or (c == "!" and src.startswith("![", i)):
            image = c == "!"
            link = _link_at(src, i + 1 if image else i, refs, spans)
            if link is not None:
                flush()
                text_src, url, title, end = link
                inner = _scan(text_src, refs, collect=False).text
                start = size
                if image:
                    emit(inner)
                else:
                    web = _is_web(url)
                    with_url = show_urls and web and inner.strip() != url
                    emit(f"{inner} ({url})" if with_url else inner)
                    if collect and web:
                        out.links.append(_Link(url, inner, title, i, start, size))
                i = end
                continue
        if c == "<":
            m = _AUTOLINK.match(src, i)
            if m:
                flush()
                target = m.group(1)
                if collect and _is_web(target):
                    out.links.append(_Link(target, None, None, i + 1, size, size + len(target)))
                emit(target.removeprefix("mailto:"))
                i = m.end()
                continue
        plain.append(c)
        plain_at.append(i)
        i += 1
    flush()
    out.text = "".join(parts)
    return out


def _spans(src: str) -> _Spans:
    runs = [(m.start(), len(m.group(0))) for m in _BACKTICKS.finditer(src)]
    starts_by_length: dict[int, list[int]] = {}
    for start, n in runs:
        starts_by_length.setdefault(n, []).append(start)
    code: dict[int, tuple[int, int]] = {}
    inside_until = -1
    for start, n in runs:
        if start < inside_until:
            continue
        same = starts_by_length[n]
        k = bisect.bisect_right(same, start)
        if k < len(same):  # a code span runs to the next run of exactly as many backticks
            code[start] = (same[k], n)
            inside_until = same[k] + n
    brackets: dict[int, int] = {}
    opened: list[int] = []
    skip_until = -1
    for m in _BRACKET_TOKENS.finditer(src):
        at = m.start()
        if at < skip_until:
            continue
        token = m.group(0)
        if token[0] == "`" and at in code:
            skip_until = code[at][0] + code[at][1]
        elif token == "[":
            opened.append(at)
        elif token == "]" and opened:
            brackets[opened.pop()] = at
    return _Spans(code=code, brackets=brackets)


def _code_text(code: str) -> str:
    code = code.replace("\n", " ")
    if len(code) > 2 and code.startswith(" ") and code.endswith(" ") and code.strip():
        code = code[1:-1]
    return code


def _link_at(
    src: str, i: int, refs: _Refs, spans: _Spans
) -> tuple[str, str, str | None, int] | None:
    """The link whose ``[`` is at ``i``: (text source, url, title, end offset), or None."""
    close = spans.brackets.get(i)
    if close is None:
        return None
    text_src = src[i + 1:close]
    j = close + 1
    if j < len(src) and src[j] == "(":
        inline = _inline_destination(src, j + 1)
        if inline is not None:
            url, title, end = inline
            return text_src, url, title, end
    if j < len(src) and src[j] == "[":
        m = _REF_LABEL.match(src, j)
        if m:
            found = refs.get(m.group(1) if m.group(1).strip() else text_src)
            if found is not None:
                return text_src, found[0], found[1], m.end()
            return None
    found = refs.get(text_src)
    if found is not None:
        return text_src, found[0], found[1], j
    return None


def _inline_destination(src: str, j: int) -> tuple[str, str | None, int] | None:
    """Parse ``url "title")`` starting after ``(``: (url, title, end offset), or None."""
    j = _skip_space(src, j)
    if src.startswith("<", j):
        bracketed = _BRACKETED_DESTINATION.match(src, j)
        if bracketed is None:
            return None
        url = bracketed.group(1)
        j = bracketed.end()
    else:
        dest = _DESTINATION.match(src, j)
        url = dest.group(0) if dest else ""
        j += len(url)
    j = _skip_space(src, j)
    title = None
    pattern = _TITLES.get(src[j]) if j < len(src) else None
    if pattern is not None:
        m = pattern.match(src, j)
        if m is None:
            return None
        title = _unescape(m.group(1))
        j = _skip_space(src, m.end())
    if src.startswith(")", j):
        return _unescape(url), title, j + 1
    return None


def _skip_space(src: str, j: int) -> int:
    while j < len(src) and src[j] in " \t\n":
        j += 1
    return j


def _unescape(s: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", s)


def _strip_emphasis(s: str) -> str:
    """Drop ``*``/``_``/``~~`` emphasis markers (``_`` only at word edges: snake_case stays)."""
    s = re.sub(r"\*+|~~", "", s)
    return re.sub(r"(?<!\w)_+|_+(?!\w)", "", s)


def _is_web(url: str) -> bool:
    return _WEB_URL.match(url.strip()) is not None


# --- citations ---------------------------------------------------------------------------------


def _footnote(block: _Block, inline: _Inline) -> Citation:
    citation = make_citation(
        label=block.label, line=block.line, text=_squash(inline.text),
        urls=[link.url for link in inline.links],
    )
    if citation.title is None:
        fallback = _fallback_title(inline.links)
        if fallback:
            citation = replace(citation, title=fallback)
    return citation


def _fallback_title(links: list[_Link]) -> str | None:
    """The first link's ``"title"``, else its text when that is words rather than a URL."""
    for link in links:
        title = strip_notes(link.title).strip() if link.title else None  # not citewatch's note
        if title:
            return title
        text = _squash(link.text or "")
        if text and not _is_web(text) and len(text.split()) > 1:
            return text
    return None


def _body_link(inline: _Inline, link: _Link, lines_of: _LineIndex, sentences: _Sentences) -> Citation:
    text = _squash(link.text or "")
    if not text or _is_web(text):
        text = sentences.around(link.start, link.end)
    return make_citation(
        label=None, line=lines_of.line(link.source), text=text, urls=[link.url], title=link.title
    )


class _LineIndex:
    """Line numbers of offsets in one block. The newlines are found once and each lookup is a
    bisection: counting them from the block's start for every link made a document written on
    one line quadratic."""

    __slots__ = ("_first", "_newlines")

    def __init__(self, block: _Block) -> None:
        self._first = block.line
        self._newlines = [m.start() for m in re.finditer("\n", block.source)]

    def line(self, offset: int) -> int:
        return self._first + bisect.bisect_left(self._newlines, offset)


class _Sentences:
    """The sentence around a span of one rendered block, from its sentence ends found once
    (lazily: most blocks have no bare URL and never ask)."""

    __slots__ = ("_text", "_starts", "_spaces", "_ends")

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None
        self._spaces: list[int] = []  # where each end's whitespace begins
        self._ends: list[int] = []

    def around(self, start: int, end: int) -> str:
        """The sentence that holds ``text[start:end]``: from after the last sentence end before
        ``start`` through the first one at or after ``end``."""
        if self._starts is None:
            self._starts = []
            for m in _SENTENCE_END.finditer(self._text):
                self._starts.append(m.start())
                self._spaces.append(m.start() + len(m.group(0).rstrip()))
                self._ends.append(m.end())
        # An end counts before `start` once its whitespace has begun there (a search that
        # stopped at `start` would have cut the whitespace short, never the punctuation).
        k = bisect.bisect_left(self._spaces, start)
        begin = min(self._ends[k - 1], start) if k else 0
        j = bisect.bisect_left(self._starts, end)
        stop = self._ends[j] if j < len(self._starts) else len(self._text)
        return _squash(self._text[begin:stop])


def _squash(s: str) -> str:
    return " ".join(s.split())


def _first_heading(lines: list[str], code: list[bool]) -> str | None:
    empty = _Refs()
    for i, line in enumerate(lines):
        if code[i]:
            continue
        m = _H1.match(line)
        if m:
            return _squash(_scan(m.group(1), empty, collect=False).text) or None
        if i + 1 < len(lines) and line.strip() and _SETEXT_H1.match(lines[i + 1]) \
                and not _BLOCK_START.match(line):
            return _squash(_scan(line, empty, collect=False).text) or None
    return None
