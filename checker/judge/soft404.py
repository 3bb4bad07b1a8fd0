"""
Soft-404 evidence: pages that answer 200 although what was cited is gone.

Three kinds of evidence, all pure functions (``checker.judge.classify`` combines them):

* **Shape of the final URL** after a redirect (``is_home_url``, ``is_error_url``): a deep URL sent
  to a site's home page (``/``, ``/index.html``, ``/en/``, ``/home``, ``/en-us/default.aspx``…)
  or to a generic page (a path segment such as ``404``, ``404.html``, ``not-found``, ``notfound``,
  ``pagenotfound``, ``error``, ``errors``, ``search``; a query with ``aspxerrorpath``,
  ``error=404``, a bare ``404``, or a search key ``q``/``s``/``query``/``search`` on a home
  path: ``/?s=term``). Words are matched as whole path segments (extension ignored), so
  ``/blog/handling-errors`` is not an error page.
* **A title or first heading that says "not found"** (``says_not_found``), in the major languages of
  the web. Titles are normalised (casefold, accents and apostrophes dropped, punctuation to spaces,
  native digits to ASCII) and split on separators (``|``, `` - ``, `` – ``, ``:``, ``·``, ``_``,
  brackets…). A segment matches when it is a known phrase ("page not found", "404",
  "Страница не найдена", "ページが見つかりません"…) plus at most some *filler words* ("oops",
  "sorry", "error", "404", "ошибка", "erreur"…). A real article whose title merely contains a phrase
  ("What is a 404 error?", "Page not found errors explained", "Why the Higgs was not found") is
  therefore not flagged. Scripts written without spaces (Chinese, Japanese, Thai) match a phrase as
  a substring when at most ``MAX_UNSPACED_EXTRA_CHARS`` other characters surround it.
* **Comparison with a probe** (``SoftProbe``, ``looks_like_probe``): what the same host answers for
  a random path that cannot exist (``random_probe_url``). Only a probe that answered 2xx is
  evidence: a host that answers 404 for the probe is honest and nothing is concluded. The page is
  the host's "missing page" when, for a deep URL:

  - both were redirected to the same final URL; or
  - both have the same non-empty title and their body samples agree at least
    ``PROBE_TITLE_BODY_SIMILARITY`` (rapidfuzz ``ratio``, 0-100); or
  - neither has a title and the body samples agree at least ``PROBE_BODY_SIMILARITY``.

  Body samples are compared on their first ``PROBE_BODY_CHARS`` characters, each without its own
  URL and path (error pages often echo them). A title alone is not enough when a body is missing.

  Body similarity alone is not trusted when the titles differ: pages of one site share their
  navigation, so the first kilobytes of two real pages can be near-identical (a 1500-character
  menu shared by two 2000-character samples already scores about 85), while a soft-404 page keeps
  one title for every missing path. A single-page app that serves one shell
  (same title, same body) for every path cannot be told from a soft-404 without running its
  scripts; it is reported as soft-404.

The per-host probe cache belongs to the engine; ``ProbeCache`` is a small helper for it (one probe
per scheme and host: the first URL checked on a host gives the probe its shape).
"""

from __future__ import annotations

import functools
import random
import re
import string
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from rapidfuzz import fuzz

from checker.models import Observation
from citations.hosts import scheme_and_netloc

PROBE_BODY_SIMILARITY = 95.0        # untitled pages: body samples this alike are the same page
PROBE_TITLE_BODY_SIMILARITY = 90.0  # same title: body samples this alike are the same page
PROBE_BODY_CHARS = 4000             # compare at most this much of each body sample
MAX_UNSPACED_EXTRA_CHARS = 10       # CJK/Thai: characters allowed around a "not found" phrase
PROBE_TOKEN_CHARS = 24              # length of the random part of a probe path

# --- text normalisation -------------------------------------------------------------------------

_APOSTROPHES = frozenset("'’‘`ʼ´")


# normalize_text on ASCII: letters lower-cased, digits kept, apostrophes dropped, the rest spaces.
_ASCII_TABLE = {
    code: (chr(code).lower() if chr(code).isalnum() else None if chr(code) in _APOSTROPHES else " ")
    for code in range(128)
}


# Memoised: one page's title and headings are normalised and split by several rules of a check,
# and a run sees the same site names and error titles again and again.
_TEXT_CACHE_SIZE = 8192


@functools.lru_cache(maxsize=_TEXT_CACHE_SIZE)
def normalize_text(text: str) -> str:
    """Casefold, drop accents and apostrophes, punctuation to spaces, native digits to ASCII.

    ``"Oops! That page can’t be found."`` becomes ``"oops that page cant be found"``,
    ``"Sayfa Bulunamadı"`` becomes ``"sayfa bulunamadi"`` and ``"خطای ۴۰۴"`` keeps its letters with
    ASCII ``404``.
    """
    if text.isascii():  # the common case, the same answer by one table: see _ASCII_TABLE
        return " ".join(text.translate(_ASCII_TABLE).split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    out: list[str] = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Mn" or ch in _APOSTROPHES:
            continue
        if category == "Nd":
            out.append(str(unicodedata.digit(ch)))
        elif ch == "ı":  # Turkish dotless i: users type it both ways
            out.append("i")
        elif category[0] in "LNM":
            out.append(ch)
        else:
            out.append(" ")
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def is_unspaced(text: str) -> bool:
    """True when ``text`` contains a script written without spaces between words (CJK, Thai…)."""
    return not text.isascii() and any(_unspaced_char(ch) for ch in text)


def _unspaced_char(ch: str) -> bool:
    if ch.isascii() or not ch.isalpha():
        return False
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR"))


# Separators between the parts of a title ("Article | Site", "404 - Page not found").
_TITLE_SEPARATORS = re.compile(
    r"\s+[-–—:/»«·•~]+\s+|\s*[|｜·•»«()\[\]{}【】「」《》〈〉_]+\s*|::|\s*[–—:]\s+|\s+[–—]\s*"
)


@functools.lru_cache(maxsize=_TEXT_CACHE_SIZE)
def split_title(title: str) -> tuple[str, ...]:
    """The parts of a title between separators, raw (not normalised), empty parts dropped."""
    return tuple(part.strip() for part in _TITLE_SEPARATORS.split(title) if part.strip())


# --- "not found" titles -------------------------------------------------------------------------

# Phrases that say the page is missing. Written naturally here; normalised at import.
_NOT_FOUND_PHRASES_RAW = (
    # English
    "404", "not found", "page not found", "file not found", "document not found",
    "article not found", "content not found", "resource not found", "post not found",
    "file or directory not found", "the resource cannot be found", "page cannot be found",
    "page can't be found", "page could not be found", "page was not found", "page does not exist",
    "page doesn't exist", "page no longer exists", "this page isn't available",
    "this page is not available", "this content isn't available", "nothing found", "410 gone",
    "the page you requested could not be found", "the page you are looking for could not be found",
    "the page you're looking for can't be found", "the page you're looking for could not be found",
    "the page you are looking for does not exist", "the page you were looking for doesn't exist",
    "we can't find that page", "we couldn't find that page", "we can't find the page",
    "we couldn't find the page you were looking for", "page missing",
    # Russian, Ukrainian, Belarusian, Bulgarian, Serbian/Croatian, Kazakh
    "страница не найдена", "страница не существует", "страницы не существует",
    "запрашиваемая страница не найдена", "такой страницы нет", "страница удалена", "не найдено",
    "не найдена", "документ не найден", "файл не найден", "ничего не найдено",
    "сторінку не знайдено", "сторінка не знайдена", "сторінка не існує", "сторінки не існує",
    "такої сторінки не існує", "не знайдено", "старонка не знойдзена",
    "страницата не е намерена", "страницата не съществува", "страница није пронађена",
    "stranica nije pronađena", "stranica ne postoji", "бет табылмады",
    # Chinese (simplified, traditional)
    "页面不存在", "页面未找到", "找不到页面", "找不到该页面", "页面找不到了", "页面没有找到",
    "无法找到该页面", "找不到网页", "网页不存在", "文章不存在", "404错误", "错误404",
    "找不到網頁", "找不到頁面", "頁面不存在", "網頁不存在", "找不到該頁面", "頁面未找到",
    "無法找到該頁面", "頁面沒有找到", "404錯誤",
    # Japanese
    "ページが見つかりません", "ページは見つかりません", "ページが見つかりませんでした",
    "ページは見つかりませんでした", "ページが存在しません", "ページは存在しません",
    "存在しないページ", "見つかりません",
    # Korean
    "페이지를 찾을 수 없습니다", "페이지를 찾을 수 없음", "페이지를 찾을 수 없어요",
    "페이지가 존재하지 않습니다", "찾을 수 없는 페이지", "찾을 수 없는 페이지입니다",
    "존재하지 않는 페이지", "존재하지 않는 페이지입니다",
    # Spanish, Portuguese, Catalan
    "página no encontrada", "no se encontró la página", "no se ha encontrado la página",
    "no se pudo encontrar la página", "la página no existe", "la página que buscas no existe",
    "la página que busca no existe", "página no existe", "página inexistente", "no encontrado",
    "no encontrada", "página não encontrada", "página não existe", "a página não existe",
    "a página que você procura não existe", "não encontrado", "não encontrada",
    "pàgina no trobada", "no s'ha trobat la pàgina",
    # French
    "page introuvable", "page non trouvée", "page inexistante", "la page demandée n'existe pas",
    "cette page n'existe pas", "la page n'existe pas", "la page que vous recherchez n'existe pas",
    "la page que vous cherchez est introuvable", "la page que vous recherchez est introuvable",
    "introuvable", "document introuvable",
    # German
    "seite nicht gefunden", "seite wurde nicht gefunden", "die seite wurde nicht gefunden",
    "die angeforderte seite wurde nicht gefunden", "seite existiert nicht",
    "die seite existiert nicht", "diese seite existiert nicht",
    "seite konnte nicht gefunden werden",
    "die seite konnte nicht gefunden werden", "nicht gefunden", "datei nicht gefunden",
    # Italian
    "pagina non trovata", "la pagina non esiste", "pagina non esistente", "pagina inesistente",
    "la pagina richiesta non è stata trovata", "non trovata", "non trovato",
    # Dutch
    "pagina niet gevonden", "pagina bestaat niet", "deze pagina bestaat niet",
    "pagina kan niet worden gevonden", "de pagina kon niet worden gevonden",
    "pagina is niet gevonden", "niet gevonden",
    # Polish, Czech, Slovak
    "nie znaleziono strony", "strona nie została znaleziona", "strona nie istnieje",
    "nie ma takiej strony", "strony nie znaleziono", "nie znaleziono",
    "stránka nenalezena", "stránka nebyla nalezena", "stránka neexistuje",
    "požadovaná stránka nebyla nalezena", "nenalezeno", "stránka nenájdená",
    "stránka sa nenašla", "stránka nebola nájdená",
    # Turkish, Azerbaijani, Uzbek
    "sayfa bulunamadı", "aradığınız sayfa bulunamadı", "sayfa mevcut değil",
    "böyle bir sayfa yok", "bulunamadı", "səhifə tapılmadı", "sahifa topilmadi",
    # Arabic, Persian, Urdu, Hebrew
    "الصفحة غير موجودة", "الصفحة المطلوبة غير موجودة", "لم يتم العثور على الصفحة",
    "الصفحة غير متوفرة", "غير موجود", "غير موجودة",
    "صفحه پیدا نشد", "صفحه یافت نشد", "صفحه مورد نظر یافت نشد", "صفحه مورد نظر پیدا نشد",
    "صفحه وجود ندارد", "یافت نشد", "پیدا نشد", "صفحہ نہیں ملا",
    "הדף לא נמצא", "העמוד לא נמצא", "הדף המבוקש לא נמצא", "לא נמצא",
    # Hindi, Bengali
    "पृष्ठ नहीं मिला", "पेज नहीं मिला", "पृष्ठ नहीं मिल सका", "पेज नहीं मिल सका", "नहीं मिला",
    "পৃষ্ঠা পাওয়া যায়নি",
    # Indonesian, Malay, Vietnamese, Thai, Filipino
    "halaman tidak ditemukan", "halaman yang anda cari tidak ditemukan", "halaman tidak ada",
    "tidak ditemukan", "halaman tidak dijumpai", "halaman tidak wujud",
    "không tìm thấy trang", "trang không tồn tại", "trang bạn tìm kiếm không tồn tại",
    "không tìm thấy", "ไม่พบหน้า", "ไม่พบหน้าเว็บ", "ไม่พบหน้าที่คุณต้องการ",
    "hindi nahanap ang pahina",
    # Nordic, Finnish, Baltic
    "sidan hittades inte", "sidan kunde inte hittas", "sidan finns inte",
    "sidan du söker finns inte",
    "hittades inte", "siden finnes ikke", "fant ikke siden", "finner ikke siden",
    "siden ble ikke funnet", "side ikke funnet", "siden blev ikke fundet", "siden findes ikke",
    "side ikke fundet", "siden kunne ikke findes", "sivua ei löytynyt", "sivua ei löydy",
    "sivua ei ole olemassa", "puslapis nerastas", "lapa nav atrasta", "lehekülge ei leitud",
    # Greek, Hungarian, Romanian
    "η σελίδα δεν βρέθηκε", "σελίδα δεν βρέθηκε", "η σελίδα δεν υπάρχει", "δεν βρέθηκε",
    "az oldal nem található", "oldal nem található", "a keresett oldal nem található",
    "nem található", "pagina nu a fost găsită", "pagină negăsită", "pagina nu există",
)

# Words that may surround a phrase in a "not found" title ("Oops! 404 - Error: page not found").
_FILLERS_RAW = (
    "404", "410", "error", "page", "http", "code", "status", "oops", "ooops", "whoops", "oh", "no",
    "uh", "sorry", "we", "we're", "so", "that", "this", "the", "a", "an", "hmm", "ouch",
    "ошибка", "упс", "извините", "к", "сожалению", "увы", "помилка", "вибачте", "на", "жаль",
    "lo", "sentimos", "ups", "vaya", "erro", "desculpe", "oups", "erreur", "désolé", "la", "le",
    "el", "die", "der", "fehler", "hoppla", "leider", "errore", "spiacenti", "fout", "oeps",
    "helaas", "de", "het", "błąd", "przepraszamy", "hata", "üzgünüz", "maalesef", "خطأ", "عذرا",
    "عفوا", "خطای", "متاسفانه", "त्रुटि", "maaf", "lỗi", "xin", "chyba", "fel", "tyvärr", "feil",
    "beklager", "fejl", "virhe", "σφάλμα", "hiba", "eroare", "שגיאה", "오류", "에러", "죄송합니다",
    "요청하신",
)

_NOT_FOUND_PHRASES = tuple(dict.fromkeys(normalize_text(p) for p in _NOT_FOUND_PHRASES_RAW))
# (phrase, written without spaces?), worked out once: is_unspaced looks up Unicode names.
_PHRASES_UNSPACED = tuple((phrase, is_unspaced(phrase)) for phrase in _NOT_FOUND_PHRASES)
_UNSPACED_ONLY = tuple(pair for pair in _PHRASES_UNSPACED if pair[1])
# word -> the phrases to try for a part holding it: the unspaced ones and the spaced ones with
# that word, in their original order
def _phrases_by_word() -> dict[str, tuple[tuple[str, bool], ...]]:
    positions: dict[str, set[int]] = {}  # one pass over the phrases (the table is large)
    for index, (phrase, unspaced) in enumerate(_PHRASES_UNSPACED):
        if not unspaced:
            for word in phrase.split():
                positions.setdefault(word, set()).add(index)
    unspaced_positions = {i for i, (_, unspaced) in enumerate(_PHRASES_UNSPACED) if unspaced}
    return {
        word: tuple(_PHRASES_UNSPACED[i] for i in sorted(found | unspaced_positions))
        for word, found in positions.items()
    }


_PHRASES_BY_WORD = _phrases_by_word()
_SPACED_ONLY = tuple(pair for pair in _PHRASES_UNSPACED if not pair[1])
_SPACED_BY_WORD = {
    word: tuple(pair for pair in pairs if not pair[1]) for word, pairs in _PHRASES_BY_WORD.items()
}
_FILLERS = frozenset(normalize_text(w) for w in _FILLERS_RAW)


@functools.lru_cache(maxsize=_TEXT_CACHE_SIZE)
def says_not_found(text: str | None) -> bool:
    """True when a title or heading says the page is missing (see the module docstring)."""
    if not text or not text.strip():
        return False
    parts = [normalize_text(text), *(normalize_text(part) for part in split_title(text))]
    return any(_part_says_not_found(part) for part in parts if part)


def _part_says_not_found(part: str) -> bool:
    padded = f" {part} "
    # A spaced phrase can only match when it holds every word of `part` that is not a filler
    # (those words would be left over): only phrases with the first such word are tried.
    # Unspaced phrases are all in scripts written without spaces (none of them ASCII).
    ascii_only = part.isascii()
    candidates = _SPACED_ONLY if ascii_only else _PHRASES_UNSPACED
    first = next((word for word in part.split() if word not in _FILLERS), None)
    if first is not None:
        if ascii_only:
            candidates = _SPACED_BY_WORD.get(first, ())
        else:
            candidates = _PHRASES_BY_WORD.get(first, _UNSPACED_ONLY)
    for phrase, unspaced in candidates:
        if unspaced:
            index = part.find(phrase)
            if index < 0:
                continue
            rest = (part[:index] + part[index + len(phrase):]).replace(" ", "")
            if len(rest) <= MAX_UNSPACED_EXTRA_CHARS:
                return True
            continue
        index = padded.find(f" {phrase} ")
        if index < 0:
            continue
        rest = padded[:index] + " " + padded[index + len(phrase) + 2:]
        if all(word in _FILLERS for word in rest.split()):
            return True
    return False


# --- URL shapes ---------------------------------------------------------------------------------

# A home page: "/", "/index.html", "/home", "/en/", "/en-us/default.aspx" (any query: see below).
_HOME_PATH = re.compile(
    r"^/?(?:[a-z]{2}(?:[-_][a-z]{2,4})?/)?"
    r"(?:(?:index|default|home|homepage|main|start|welcome|portal)(?:\.[a-z0-9]{2,5})?/?)?$",
    re.IGNORECASE,
)
# Query keys that leave a home page a home page ("/?lang=en", "/?utm_source=x").
_HARMLESS_QUERY_KEYS = frozenset(
    {"lang", "l", "hl", "locale", "language", "ref", "from", "src", "source", "redirect",
     "redirected", "r"}
)
# Whole path segments (extension dropped) that name an error or search page.
_ERROR_SEGMENT = re.compile(
    r"^(?:(?:page|error|err|http)[-_]?)?"
    r"(?:404|410|not[-_]?found|page[-_]?not[-_]?found|missing|gone)"
    r"(?:[-_]?(?:page|error|err))?$"
    r"|^(?:errors?|error[-_]?page|errorpage|errpage|error[-_]?404|404[-_]?error)$"
    r"|^(?:search|search[-_]?results?|suche|recherche|buscar|busqueda|poisk)$",
    re.IGNORECASE,
)
_ERROR_QUERY_KEYS = frozenset({"aspxerrorpath", "error", "err", "errorcode", "error_code", "code"})
_ERROR_QUERY_VALUES = frozenset({"404", "410", "notfound", "not-found", "not_found"})
_SEARCH_QUERY_KEYS = frozenset({"q", "s", "query", "search", "searchterm", "keyword", "keywords"})


def _segments(path: str) -> list[str]:
    return [unquote(seg) for seg in path.split("/") if seg]


def _stem(segment: str) -> str:
    stem, dot, ext = segment.rpartition(".")
    return stem if dot and stem and re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,4}", ext) else segment


@functools.lru_cache(maxsize=_TEXT_CACHE_SIZE)  # asked several times about each checked URL
def is_home_url(url: str) -> bool:
    """True when ``url`` is a site's home page (or a language home page), whatever the host."""
    parts = urlsplit(url)
    if not _HOME_PATH.match(parts.path or "/"):
        return False
    keys = {key.casefold() for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if not parts.query:
        return True
    return bool(keys) and all(k in _HARMLESS_QUERY_KEYS or k.startswith("utm_") for k in keys)


def is_deep_url(url: str) -> bool:
    """True when ``url`` names something below a home page (a path or a query)."""
    return not is_home_url(url)


def is_error_url(url: str) -> bool:
    """True when ``url`` is a generic error, "not found" or search page."""
    parts = urlsplit(url)
    if any(_ERROR_SEGMENT.match(_stem(seg)) for seg in _segments(parts.path)):
        return True
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    search_terms = [v for k, v in pairs if k.casefold() in _SEARCH_QUERY_KEYS and "/" not in v]
    if search_terms and _HOME_PATH.match(parts.path or "/"):
        return True  # "/?s=term" (WordPress); not Drupal's "/?q=node/12", which is a path
    for key, value in pairs:
        key_cf, value_cf = key.casefold(), value.casefold()
        if key_cf == "aspxerrorpath" or key_cf in _ERROR_QUERY_VALUES:
            return True
        if key_cf in _ERROR_QUERY_KEYS and value_cf in _ERROR_QUERY_VALUES:
            return True
        if key_cf.startswith("404"):  # nginx/Apache "/?404;http://host/old/path"
            return True
    return False


_INDEX_PAGE = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)


@functools.lru_cache(maxsize=_TEXT_CACHE_SIZE)  # a redirected page's URLs are compared several times
def url_key(url: str) -> str:
    """``url`` with the differences that don't make another page removed.

    Scheme, a leading ``www.``, host case, default ports, percent-encoding, a trailing slash, a
    trailing ``index.html``/``index.php`` and the fragment are ignored.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").casefold().removeprefix("www.")
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    path = unquote(parts.path)
    path = _INDEX_PAGE.sub("/", path)
    path = path.rstrip("/")
    return urlunsplit(("", netloc, path, parts.query, ""))


def same_page(a: str, b: str) -> bool:
    """True when two URLs differ only in ways that don't make another page (see ``url_key``)."""
    return a == b or url_key(a) == url_key(b)


# --- the probe ----------------------------------------------------------------------------------


def random_probe_url(url: str, rng: random.Random | None = None) -> str:
    """A URL on the same scheme and host as ``url`` that cannot exist, shaped like ``url``.

    The last path segment is replaced by a random token (keeping its extension, and a trailing
    slash if there was one), so the probe has the same directory and depth. Query and fragment
    are dropped: changing a query value could land on the very same page.

    >>> random_probe_url("https://example.org/reports/2019/plan.pdf?x=1", random.Random(0))[:40]
    'https://example.org/reports/2019/citewat'
    """
    rng = rng or random.Random()
    token = "citewatch-" + "".join(
        rng.choice(string.ascii_lowercase + string.digits) for _ in range(PROBE_TOKEN_CHARS)
    )
    parts = urlsplit(url)
    directory, _, last = (parts.path or "/").rpartition("/")
    if last:  # "/a/b/plan.pdf" -> "/a/b/<token>.pdf"
        stem = _stem(last)
        path = f"{directory}/{token}{last[len(stem):]}"
    elif directory:  # "/a/b/" -> "/a/<token>/"
        parent = directory.rpartition("/")[0]
        path = f"{parent}/{token}/"
    else:  # "/" -> "/<token>"
        path = f"/{token}"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class SoftProbe:
    """What a host answered for a random path that cannot exist (see ``random_probe_url``)."""

    url: str
    status: int | None
    final_url: str | None = None
    title: str | None = None
    body_sample: str = ""

    @classmethod
    def from_observation(cls, obs: Observation) -> SoftProbe:
        return cls(
            url=obs.url,
            status=obs.status,
            final_url=obs.final_url,
            title=obs.title,
            body_sample=obs.body_sample,
        )

    @property
    def answers_missing_pages_with_ok(self) -> bool:
        """The host answered 2xx for a page that cannot exist: its 2xx pages prove nothing."""
        return self.status is not None and 200 <= self.status < 300


def looks_like_probe(obs: Observation, probe: SoftProbe | None) -> bool:
    """True when ``obs`` is the page its host serves for missing paths (module docstring)."""
    if probe is None or not probe.answers_missing_pages_with_ok:
        return False
    if obs.status is None or not 200 <= obs.status < 300 or not is_deep_url(obs.url):
        return False
    final = obs.final_url or obs.url
    if (
        probe.final_url
        and not same_page(final, obs.url)
        and not same_page(probe.final_url, probe.url)
        and same_page(final, probe.final_url)
    ):
        return True
    title = normalize_text(obs.title or "")
    probe_title = normalize_text(probe.title or "")
    if title != probe_title:
        return False
    body = _without_own_path(obs.body_sample[:PROBE_BODY_CHARS], obs.url)
    probe_body = _without_own_path(probe.body_sample[:PROBE_BODY_CHARS], probe.url)
    if not body.strip() or not probe_body.strip():
        return False
    threshold = PROBE_TITLE_BODY_SIMILARITY if title else PROBE_BODY_SIMILARITY
    return fuzz.ratio(body, probe_body) >= threshold


def _without_own_path(sample: str, url: str) -> str:
    """``sample`` without its page's URL and path ("The page /news/x was not found")."""
    parts = urlsplit(url)
    for text in (url, unquote(url), parts.path, unquote(parts.path)):
        if len(text) > 1:
            sample = sample.replace(text, "")
    return sample


@dataclass(slots=True)
class ProbeCache:
    """One probe per host (``scheme://host:port``), for the engine to fill and read."""

    probes: dict[str, SoftProbe] = field(default_factory=dict)

    @staticmethod
    def key(url: str) -> str:
        scheme, netloc = scheme_and_netloc(url)  # asked twice per checked page: the quick split
        return f"{scheme.casefold()}://{netloc.casefold()}"

    def get(self, url: str) -> SoftProbe | None:
        return self.probes.get(self.key(url))

    def put(self, url: str, probe: SoftProbe) -> None:
        self.probes[self.key(url)] = probe

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self.key(url) in self.probes
