"""Document repair: only the repaired links change, a second run changes nothing."""

# ruff: noqa: E501  (documents and expected lines are clearer unbroken)

from __future__ import annotations

from datetime import date

import pytest

from archive import capture_time
from citations.models import DocumentFormat
from citations.rewrite import Outcome, Repair, apply_repairs, fix_document, unified_diff

PLAIN, MD, HTML = DocumentFormat.PLAINTEXT, DocumentFormat.MARKDOWN, DocumentFormat.HTML
DEAD = "https://dead.example/page"
CAPTURE = f"https://web.archive.org/web/20221116000000/{DEAD}"
NOTE = f"[archived 2022-11-16: {CAPTURE}]"


def archive(line: int, url: str = DEAD, capture: str = CAPTURE, day: date | None = None) -> Repair:
    # fix writes the day its caller gives; checker.report.repairs dates captures by archive/'s rule
    captured = capture_time(capture)
    day = day or (captured.date() if captured else None)
    return Repair(
        line=line, cited_url=url, replacement_url=capture, kind="archive", captured_at=day
    )


def moved(line: int, url: str, new: str) -> Repair:
    return Repair(line=line, cited_url=url, replacement_url=new, kind="moved")


def changed_lines(old: str, new: str) -> dict[int, str]:
    """{line number: new line} for every line that differs; the line count must not change."""
    before, after = old.split("\n"), new.split("\n")
    assert len(before) == len(after), "a repair added or removed lines"
    return {i: b for i, (a, b) in enumerate(zip(before, after, strict=True), 1) if a != b}


def fixed_twice(text: str, fmt: DocumentFormat, repairs: list[Repair]) -> str:
    """Fix, then check that fixing the result again changes nothing and says so."""
    once = fix_document(text, fmt, repairs)
    again = apply_repairs(once, fmt, repairs)
    assert again.text == once
    assert {o.outcome for o in again.outcomes} == {Outcome.ALREADY_FIXED}
    return once


# --- plain text --------------------------------------------------------------------------------

PAPER = """Russia's digital isolation

1Ministry of Digital Development, “Plan,” accessed November 16, 2022, https://dead.example/page.
2Ibid., see also https://alive.example/other
3Second citation of the same page: https://dead.example/page, p. 4.
"""


def test_plain_text_capture_follows_the_url_and_nothing_else_changes() -> None:
    new = fixed_twice(PAPER, PLAIN, [archive(3)])
    assert changed_lines(PAPER, new) == {
        3: f"1Ministry of Digital Development, “Plan,” accessed November 16, 2022, {DEAD} {NOTE}.",
    }


def test_each_named_occurrence_is_repaired_once() -> None:
    new = fixed_twice(PAPER, PLAIN, [archive(3), archive(5)])
    assert changed_lines(PAPER, new) == {
        3: f"1Ministry of Digital Development, “Plan,” accessed November 16, 2022, {DEAD} {NOTE}.",
        5: f"3Second citation of the same page: {DEAD} {NOTE}, p. 4.",
    }


def test_a_repair_takes_the_first_occurrence_at_or_after_its_line() -> None:
    new = fix_document(PAPER, PLAIN, [archive(4)])
    assert list(changed_lines(PAPER, new)) == [5]


@pytest.mark.parametrize("after", [".", ",", ";", ")", "”", "!", "?", ":", "\n"])
def test_punctuation_after_the_url_stays_after_the_note(after: str) -> None:
    opening = "(" if after == ")" else ""
    text = f"See {opening}{DEAD}{after} next"
    assert fix_document(text, PLAIN, [archive(1)]) == f"See {opening}{DEAD} {NOTE}{after} next"


def test_a_longer_url_that_starts_with_the_cited_one_is_left_alone() -> None:
    text = f"A {DEAD}/deeper and {DEAD}-2 and {DEAD}?q=1 but then {DEAD} end\n"
    new = fix_document(text, PLAIN, [archive(1)])
    assert new == f"A {DEAD}/deeper and {DEAD}-2 and {DEAD}?q=1 but then {DEAD} {NOTE} end\n"


def test_cyrillic_and_idn_urls() -> None:
    url = "https://пример.рф/страница/отчёт"
    capture = f"https://web.archive.org/web/20200101000000/{url}"
    text = f"1Роскомнадзор, «Отчёт», {url}.\n2Другое.\n"
    new = fixed_twice(text, PLAIN, [archive(1, url, capture)])
    assert new == f"1Роскомнадзор, «Отчёт», {url} [archived 2020-01-01: {capture}].\n2Другое.\n"


def test_the_date_comes_from_the_repair_when_given() -> None:
    new = fix_document(f"{DEAD}\n", PLAIN, [archive(1, day=date(2022, 11, 15))])
    assert new == f"{DEAD} [archived 2022-11-15: {CAPTURE}]\n"


def test_moved_urls_are_replaced_in_place() -> None:
    new = fixed_twice(
        PAPER, PLAIN, [moved(4, "https://alive.example/other", "https://alive.example/new")]
    )
    assert changed_lines(PAPER, new) == {4: "2Ibid., see also https://alive.example/new"}


def test_line_endings_and_other_bytes_are_kept() -> None:
    text = "a\r\n1Plan, https://dead.example/page.\r\n\tb  \r\n"
    assert fix_document(text, PLAIN, [archive(2)]) == f"a\r\n1Plan, {DEAD} {NOTE}.\r\n\tb  \r\n"


def test_what_cannot_be_found_or_fixed_is_reported_not_guessed() -> None:
    result = apply_repairs(PAPER, PLAIN, [archive(6), archive(1, "https://nowhere.example/")])
    assert result.text == PAPER
    assert [o.outcome for o in result.outcomes] == [Outcome.NOT_FOUND, Outcome.NOT_FOUND]
    pdf = apply_repairs("%PDF", DocumentFormat.PDF, [archive(1)])
    assert pdf.outcomes[0].outcome is Outcome.UNSUPPORTED


def test_outcomes_are_in_the_order_of_the_repairs_and_say_where() -> None:
    result = apply_repairs(PAPER, PLAIN, [archive(5), archive(3)])
    assert [(o.outcome, o.line) for o in result.outcomes] == [
        (Outcome.APPLIED, 5),
        (Outcome.APPLIED, 3),
    ]


# --- Markdown ----------------------------------------------------------------------------------

NOTES = f"""# Notes

Text with an [inline link]({DEAD} "The plan") and more.[^1]

[^1]: Ministry, “Plan,” accessed November 16, 2022, {DEAD}.

Autolink: <{DEAD}>. And [the same]({DEAD}) as a URL: [{DEAD}]({DEAD}).

See [the plan][plan] and [the other][other].

[plan]: {DEAD} "Plan | 2019"
[other]: <https://other.example/x>
"""


def test_markdown_forms() -> None:
    other_capture = "https://web.archive.org/web/20210101000000/https://other.example/x"
    repairs = [
        archive(3),
        archive(5),
        archive(7),
        archive(7),
        archive(7),
        archive(9),
        archive(9, "https://other.example/x", other_capture),
    ]
    new = fixed_twice(NOTES, MD, repairs)
    original = "; original: <https://dead.example/page>)"
    assert changed_lines(NOTES, new) == {
        3: f'Text with an [inline link]({CAPTURE} "The plan") (archived 2022-11-16{original} and more.[^1]',
        5: f"[^1]: Ministry, “Plan,” accessed November 16, 2022, {DEAD} [archived 2022-11-16: <{CAPTURE}>].",
        7: (
            f"Autolink: <{DEAD}> [archived 2022-11-16: <{CAPTURE}>]. And [the same]({CAPTURE}) "
            f"(archived 2022-11-16{original} as a URL: [{DEAD}]({CAPTURE}) (archived 2022-11-16{original}."
        ),
        11: f'[plan]: {CAPTURE} "Plan | 2019 (archived 2022-11-16; original: {DEAD})"',
        12: f'[other]: <{other_capture}> "archived 2021-01-01; original: https://other.example/x"',
    }


def test_markdown_reference_definition_before_the_citation_is_found() -> None:
    text = f"[plan]: {DEAD}\n\nSee [the plan][plan].\n"
    new = fixed_twice(text, MD, [archive(3)])
    assert (
        new
        == f'[plan]: {CAPTURE} "archived 2022-11-16; original: {DEAD}"\n\nSee [the plan][plan].\n'
    )


def test_markdown_title_quotes_are_escaped() -> None:
    url = 'https://dead.example/a"b'
    new = fix_document(
        f"[p]: <{url}> 'It''s'\n".replace("''", "\\'"),
        MD,
        [archive(1, url, "https://web.archive.org/web/2022/x")],
    )
    assert (
        new
        == "[p]: <https://web.archive.org/web/2022/x> 'It\\'s (archived 2022-01-01; original: https://dead.example/a\"b)'\n"
    )


def test_markdown_moved_link_is_replaced_in_place() -> None:
    text = f"A [link]({DEAD}) and <{DEAD}>.\n"
    new = fixed_twice(
        text,
        MD,
        [moved(1, DEAD, "https://new.example/page"), moved(1, DEAD, "https://new.example/page")],
    )
    assert new == "A [link](https://new.example/page) and <https://new.example/page>.\n"


def test_markdown_cyrillic_inline_link() -> None:
    url = "https://пример.рф/статья"
    capture = f"https://web.archive.org/web/20200101000000/{url}"
    new = fixed_twice(f"[Статья]({url}).\n", MD, [archive(1, url, capture)])
    assert new == f"[Статья]({capture}) (archived 2020-01-01; original: <{url}>).\n"


# --- HTML --------------------------------------------------------------------------------------

PAGE = f"""<!DOCTYPE html>
<html><body>
<p>Text<sup><a href="#fn1" id="r1">1</a></sup> and <a class='ext' HREF='{DEAD}?a=1&amp;b=2' title="Plan">the plan</a>.</p>
<ol class="footnotes">
<li id="fn1">Ministry, <a  href = "{DEAD}"   rel="external">{DEAD}</a>, accessed 2022. Also {DEAD}.</li>
<li>Moved: <a href=https://old.example/x>old</a></li>
</ol>
</body></html>
"""


def test_html_href_points_at_the_capture_and_keeps_the_original() -> None:
    query_capture = CAPTURE + "?a=1&b=2"
    repairs = [
        archive(3, DEAD + "?a=1&b=2", query_capture),
        archive(5),
        archive(5),
        moved(6, "https://old.example/x", "https://new.example/x?a=1&b=2"),
    ]
    new = fixed_twice(PAGE, HTML, repairs)
    assert changed_lines(PAGE, new) == {
        3: (
            '<p>Text<sup><a href="#fn1" id="r1">1</a></sup> and <a class=\'ext\' '
            f"HREF='{CAPTURE}?a=1&amp;b=2' data-original-href='{DEAD}?a=1&amp;b=2' "
            'title="Plan">the plan</a>.</p>'
        ),
        5: (
            f'<li id="fn1">Ministry, <a  href = "{CAPTURE}" data-original-href="{DEAD}"   '
            f'rel="external">{DEAD}</a>, accessed 2022. Also {DEAD} [archived 2022-11-16: '
            f'<a href="{CAPTURE}">{CAPTURE}</a>].</li>'
        ),
        6: '<li>Moved: <a href="https://new.example/x?a=1&amp;b=2">old</a></li>',
    }


def test_html_with_cyrillic_href() -> None:
    url = "https://пример.рф/статья"
    capture = f"https://web.archive.org/web/20200101000000/{url}"
    text = f'<p><a href="{url}">Статья</a></p>\n'
    new = fixed_twice(text, HTML, [archive(1, url, capture)])
    assert new == f'<p><a href="{capture}" data-original-href="{url}">Статья</a></p>\n'


def test_html_ignores_urls_inside_other_attributes_and_comments_of_tags() -> None:
    text = f'<img alt="{DEAD}" src="x.png"> <a href="{DEAD}">x</a>\n'
    new = fix_document(text, HTML, [archive(1)])
    assert (
        new
        == f'<img alt="{DEAD}" src="x.png"> <a href="{CAPTURE}" data-original-href="{DEAD}">x</a>\n'
    )


# --- BibTeX and the diff -----------------------------------------------------------------------


def test_bibtex_moves_in_place_but_does_not_archive() -> None:
    text = "@misc{plan,\n  url = {https://old.example/x},\n}\n"
    result = apply_repairs(
        text,
        DocumentFormat.BIBTEX,
        [
            moved(1, "https://old.example/x", "https://new.example/x"),
            archive(1, "https://old.example/x"),
        ],
    )
    assert result.text == "@misc{plan,\n  url = {https://new.example/x},\n}\n"
    assert [o.outcome for o in result.outcomes] == [Outcome.APPLIED, Outcome.UNSUPPORTED]


def test_unified_diff_shows_only_the_repaired_line() -> None:
    new = fix_document(PAPER, PLAIN, [archive(3)])
    diff = unified_diff(PAPER, new, "paper.txt")
    lines = diff.splitlines()
    assert lines[:2] == ["--- a/paper.txt", "+++ b/paper.txt"]
    assert [
        line for line in lines if line.startswith(("-", "+")) and line[:3] not in ("---", "+++")
    ] == [
        "-" + PAPER.splitlines()[2],
        "+" + new.splitlines()[2],
    ]
    assert unified_diff(PAPER, PAPER, "paper.txt") == ""


def test_unified_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff(f"{DEAD}", fix_document(f"{DEAD}", PLAIN, [archive(1)]), "x.txt")
    assert diff.count("\\ No newline at end of file\n") == 2
