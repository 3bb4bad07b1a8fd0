"""
Fetch one document named by URL (``citewatch scan https://example.org/report.pdf``), politely.

One GET, as a browser's "save page" would make it: the configured User-Agent and the host's
configured headers (as link checks send them), redirects followed up to
``DEFAULT_DOCUMENT_MAX_REDIRECTS``, a timeout on each phase, and a cap on the body
(``DEFAULT_DOCUMENT_MAX_BYTES``: checked against ``Content-Length`` before reading, then while
streaming). The environment is honoured as curl and requests honour it: ``HTTP_PROXY``,
``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (httpx's ``trust_env``), and the CA certificates
of ``SSL_CERT_FILE``, else ``REQUESTS_CA_BUNDLE`` (which httpx alone ignores), and ``SSL_CERT_DIR``,
else certifi's: the TLS context of link checks (checker.net.client.build_ssl_context), so that
a variable naming a missing file is one line here too.

The format comes from what the server says and what it sent (``document_format``): a PDF
signature or an HTML start in the bytes win; then ``Content-Type`` (``text/html``,
``application/xhtml+xml``, ``application/pdf``, ``text/markdown``, ``application/x-bibtex``);
then the URL path's suffix and the content, as for a file (citations.detect). ``text/plain``
says little: a ``.md`` served as text/plain is Markdown by its suffix or its footnotes.

This is a document download, not a link check, so it does not go through checker/net/'s
fetcher (only its TLS context and host headers): a failure is an error of the scan (one line,
exit status 3), never a link verdict.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from checker.net.client import build_ssl_context, ca_environment_problem, host_headers_for
from checker.settings import DEFAULT_USER_AGENT
from citations import DocumentFormat, UnreadableDocument, UnsupportedFormat
from citations.detect import detect_format

DEFAULT_DOCUMENT_TIMEOUT_S = 30.0
DEFAULT_DOCUMENT_MAX_BYTES = 50_000_000   # a long report as PDF; a page is far less
DEFAULT_DOCUMENT_MAX_REDIRECTS = 5

_BY_CONTENT_TYPE = {
    "text/html": DocumentFormat.HTML,
    "application/xhtml+xml": DocumentFormat.HTML,
    "application/pdf": DocumentFormat.PDF,
    "application/x-pdf": DocumentFormat.PDF,
    "text/markdown": DocumentFormat.MARKDOWN,
    "text/x-markdown": DocumentFormat.MARKDOWN,
    "application/x-bibtex": DocumentFormat.BIBTEX,
    "text/x-bibtex": DocumentFormat.BIBTEX,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteDocument:
    url: str                  # as given: the name the document is stored under
    final_url: str            # after redirects
    content_type: str         # the media type, lower case, without parameters; "" when not sent
    data: bytes


def is_url(text: str) -> bool:
    """True for an http(s) URL given where a path may stand."""
    return text.lower().startswith(("http://", "https://"))


def fetch_document(url: str, *, timeout_s: float = DEFAULT_DOCUMENT_TIMEOUT_S,
                   max_bytes: int = DEFAULT_DOCUMENT_MAX_BYTES,
                   max_redirects: int = DEFAULT_DOCUMENT_MAX_REDIRECTS,
                   user_agent: str = DEFAULT_USER_AGENT,
                   host_headers: Mapping[str, Mapping[str, str]] | None = None) -> RemoteDocument:
    """Download the document at ``url``. Raises ``UnreadableDocument`` (named by ``url``) with a
    one-line reason for anything but a complete 2xx answer within the limits.

    ``user_agent`` and ``host_headers`` are the configuration's, as link checks send them: a
    site that wants a cookie or a token for its pages wants it for its reports too. Each request
    of a redirect chain carries the extra headers of its own host only."""
    base = {"User-Agent": user_agent, "Accept": "*/*"}
    extras = host_headers or {}
    configured = {name.lower() for headers in extras.values() for name in headers}

    def own_host_headers(request: httpx.Request) -> None:
        # httpx copies a request's headers into the redirect it follows: another host's
        # extras (a Cookie, say) must not travel with it
        for name in configured:
            request.headers.pop(name, None)
        request.headers.update({name: value for name, value in base.items()
                                if name not in request.headers})
        request.headers.update(host_headers_for(extras, request.url.host))

    if url.lower().startswith("https:") and (problem := ca_environment_problem()):
        raise UnreadableDocument(url, f"cannot verify TLS certificates: {problem}")
    try:
        with httpx.Client(
            verify=build_ssl_context(), trust_env=True, follow_redirects=True,
            max_redirects=max_redirects, timeout=httpx.Timeout(timeout_s), headers=base,
            event_hooks={"request": [own_host_headers]},
        ) as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise UnreadableDocument(url, f"HTTP {response.status_code} "
                                              f"{response.reason_phrase}".rstrip())
            if response.status_code >= 300:   # a redirect without a Location
                raise UnreadableDocument(url, f"HTTP {response.status_code} without a usable "
                                              "Location header")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise UnreadableDocument(url, _too_large(max_bytes))
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise UnreadableDocument(url, _too_large(max_bytes))
            content_type = response.headers.get("Content-Type", "")
            return RemoteDocument(url=url, final_url=str(response.url), data=bytes(body),
                                  content_type=content_type.split(";")[0].strip().lower())
    except httpx.TooManyRedirects:
        raise UnreadableDocument(url, f"more than {max_redirects} redirects") from None
    except httpx.TimeoutException:
        raise UnreadableDocument(url, f"no answer within {timeout_s:g} s") from None
    except httpx.ConnectError as exc:
        raise UnreadableDocument(url, _connect_reason(exc)) from None
    except httpx.InvalidURL as exc:
        raise UnreadableDocument(url, f"not a valid URL ({exc})") from None
    except (httpx.HTTPError, ssl.SSLError) as exc:
        raise UnreadableDocument(url, str(exc) or type(exc).__name__) from None


def document_format(doc: RemoteDocument) -> DocumentFormat:
    """The format of a downloaded document (see the module docstring for the order)."""
    head = doc.data[:8192]
    path = urlsplit(doc.final_url).path or "/"
    by_content = _sniffed(head)
    if by_content is not None:
        return by_content
    if doc.content_type in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[doc.content_type]
    try:
        return detect_format(path, head)
    except UnsupportedFormat:   # an unknown suffix (".php", ".aspx") on a page that did not say
        return detect_format("", head)


def _sniffed(head: bytes) -> DocumentFormat | None:
    """The format the bytes themselves prove (a PDF signature, an HTML start), else None."""
    found = detect_format("", head)
    return found if found in (DocumentFormat.PDF, DocumentFormat.HTML) else None


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc)
    lowered = text.lower()
    if "certificate" in lowered:
        return f"TLS certificate not trusted ({text})"
    if any(s in lowered for s in ("name or service not known", "nodename nor servname",
                                  "name resolution", "getaddrinfo", "no address associated")):
        return "host name not found (DNS)"
    if "refused" in lowered:
        return "connection refused"
    return f"cannot connect ({text})" if text else "cannot connect"


def _too_large(max_bytes: int) -> str:
    return f"larger than {max_bytes / 1_000_000:g} MB (the limit for a document)"
