"""Where documents come from (issue 14): standard input (``scan -``, ``audit -``), a URL as PATH
(loopback HTTP and HTTPS servers, a loopback proxy), and the names they are stored under: paths
relative to the folder scanned from, old databases with absolute paths still matched."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlite_utils
from click.testing import CliRunner

from checker.cli.main import get_cli
from checker.run.remote import _connect_reason
from tests.servers import (
    LocalServer,
    forward_proxy,
    page,
    redirect,
    serve,
    serve_hosts,
    tls_server_context,
)

MD = "Body.[^1]\n\n[^1]: Ministry, “Annual Report,” March 3, 2019, https://example.org/report\n"
HTML = ("<!DOCTYPE html><html><head><title>Paper</title></head><body><p>Text<sup>"
        "<a href='#fn1'>1</a></sup></p><ol class='footnotes'><li id='fn1'>Agency, “Plan,” 2020, "
        "<a href='https://example.org/plan'>plan</a></li></ol></body></html>")


def _pdf() -> bytes:
    spec = importlib.util.spec_from_file_location(
        "pdf_build", Path(__file__).parent / "data" / "pdf_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_pdf([["A report", "Text.1",
                              "1 “Plan,” Agency, 2020, https://example.org/pdf-cited"]])  # type: ignore[no-any-return]


def _routes() -> dict[str, object]:
    return {
        "/paper.html": page(200, body=HTML.encode(), content_type="text/html; charset=utf-8"),
        "/paper.php": page(200, body=HTML.encode(), content_type=None),
        "/notes.md": page(200, body=MD.encode(), content_type="text/plain; charset=utf-8"),
        "/download": page(200, body=_pdf(), content_type="application/pdf"),
        "/big": page(200, body=b"x" * 5000, content_type="text/plain"),
        "/moved": redirect(302, "/paper.html"),
        "/loop": redirect(302, "/loop"),
    }


@pytest.fixture
def docs() -> Iterator[LocalServer]:
    with serve(_routes()) as server:   # type: ignore[arg-type]
        yield server


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(get_cli(), list(args), input=input,
                                                   catch_exceptions=False)


def _documents(tmp_path: Path) -> dict[str, tuple[str, list[str]]]:
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    out = {}
    for row in db.query("select id, path, format from documents"):
        urls = [r["url"] for r in db.query(
            "select l.url from citation_links cl join citations c on c.id = cl.citation_id "
            "join links l on l.id = cl.link_id where c.document_id = ? order by c.line, cl.position",
            [row["id"]])]
        out[row["path"]] = (row["format"], urls)
    return out


# --- standard input -----------------------------------------------------------------------------

def test_scan_reads_standard_input_and_detects_the_format_from_the_content(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = cli("scan", "-", input=MD)
    assert result.exit_code == 0, result.stderr
    assert _documents(tmp_path) == {"<stdin>": ("markdown", ["https://example.org/report"])}
    again = cli("scan", "-", input=MD)   # the same name: the same document, unchanged
    assert "1 unchanged document(s)" in again.stderr
    assert list(_documents(tmp_path)) == ["<stdin>"]


def test_standard_input_under_a_name_and_a_format_given(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert cli("scan", "-", "--stdin-name", "paper.html", input=HTML).exit_code == 0
    assert cli("scan", "-", "--stdin-name", "raw", "--input-format", "html",
               input=HTML).exit_code == 0
    found = _documents(tmp_path)
    assert found["paper.html"] == ("html", ["https://example.org/plan"])
    assert found["raw"] == ("html", ["https://example.org/plan"])


def test_empty_standard_input_is_one_error_line(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = cli("scan", "-", input="")
    assert result.exit_code == 3
    assert "Error: <stdin>: empty file" in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_reads_standard_input(cli, tmp_path, web) -> None:  # type: ignore[no-untyped-def]
    text = f"[^1]: “Annual report 2019,” {web.url('/ok')}\n"
    result = cli("audit", "-", "--no-archive", "--confirm", "1", "--all", "--format", "json", input=text)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [d["path"] for d in report["documents"]] == ["<stdin>"]


# --- a URL as PATH ------------------------------------------------------------------------------

def test_a_url_is_fetched_once_detected_and_stored_under_its_url(cli, tmp_path, docs) -> None:  # type: ignore[no-untyped-def]
    urls = [docs.url(p) for p in ("/paper.html", "/paper.php", "/notes.md", "/download", "/moved")]
    result = cli("scan", *urls)
    assert result.exit_code == 0, result.stderr
    found = _documents(tmp_path)
    assert found[urls[0]] == ("html", ["https://example.org/plan"])      # Content-Type
    assert found[urls[1]] == ("html", ["https://example.org/plan"])      # the bytes, no type
    assert found[urls[2]] == ("markdown", ["https://example.org/report"])  # text/plain + .md
    assert found[urls[3]][0] == "pdf"                                    # application/pdf
    assert "https://example.org/pdf-cited" in found[urls[3]][1]
    assert found[urls[4]] == ("html", ["https://example.org/plan"])      # after a redirect
    gets = [r for r in docs.requests if r.path != "/moved"]
    assert [r.method for r in gets] == ["GET"] * 5                      # one request each
    assert all(r.headers["user-agent"].startswith("citewatch/") for r in docs.requests)


def test_audit_takes_a_url(cli, tmp_path, docs) -> None:  # type: ignore[no-untyped-def]
    result = cli("audit", docs.url("/notes.md"), "--no-archive", "--confirm", "1",
                 "--exclude", "example.org", "--all", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [d["path"] for d in json.loads(result.stdout)["documents"]] == [docs.url("/notes.md")]


def test_a_url_is_fetched_with_the_configured_user_agent_and_each_hosts_own_headers(  # type: ignore[no-untyped-def]
    cli, tmp_path,
) -> None:
    # two hosts (127.0.0.1 and 127.0.0.2); the first sends its reader on to the second
    with serve_hosts(_routes, 2) as hosts:
        first, second = hosts
        first.routes["/away"] = redirect(302, second.url("/paper.html"))
        (tmp_path / "citewatch.toml").write_text(
            'user_agent = "LabBot/2.0 (+https://lab.example/bot)"\n'
            '[hosts."127.0.0.1"]\nheaders = { Cookie = "session=first" }\n'
            '[hosts."127.0.0.2"]\nheaders = { X-Token = "second" }\n')
        result = cli("scan", first.url("/paper.html"), first.url("/away"))
        assert result.exit_code == 0, result.stderr
        assert {r.path for r in first.requests} == {"/paper.html", "/away"}
        assert [r.path for r in second.requests] == ["/paper.html"]
        for request in first.requests:
            assert request.headers["user-agent"] == "LabBot/2.0 (+https://lab.example/bot)"
            assert request.headers["cookie"] == "session=first"
            assert "x-token" not in request.headers
        [followed] = second.requests   # the redirect took the first host's cookie off
        assert followed.headers["user-agent"] == "LabBot/2.0 (+https://lab.example/bot)"
        assert followed.headers["x-token"] == "second"
        assert "cookie" not in followed.headers


def test_audit_fetches_a_url_with_its_user_agent_option(cli, tmp_path, docs) -> None:  # type: ignore[no-untyped-def]
    result = cli("audit", docs.url("/notes.md"), "--no-archive", "--exclude", "example.org",
                 "--user-agent", "AuditBot/1.0")
    assert result.exit_code == 0, result.stderr
    assert [r.headers["user-agent"] for r in docs.requests] == ["AuditBot/1.0"]


@pytest.mark.parametrize(("path", "reason"), [
    ("/missing", "HTTP 404 Not Found"),
    ("/loop", "more than 5 redirects"),
])
def test_a_failed_download_is_one_line_and_exit_3(cli, tmp_path, docs, path, reason) -> None:  # type: ignore[no-untyped-def]
    result = cli("scan", docs.url(path), docs.url("/paper.html"))
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == f"Error: {docs.url(path)}: {reason}"
    assert list(_documents(tmp_path)) == [docs.url("/paper.html")]   # the others still scanned


def test_a_document_over_the_size_cap_is_refused(docs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from checker.run.remote import fetch_document
    from citations import UnreadableDocument

    with pytest.raises(UnreadableDocument, match="larger than 0.001 MB"):
        fetch_document(docs.url("/big"), max_bytes=1000)
    assert len(fetch_document(docs.url("/big"), max_bytes=5000).data) == 5000


def test_too_large_through_the_cli_is_one_line(cli, tmp_path, docs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import functools

    from checker.run import remote, scan

    monkeypatch.setattr(scan, "fetch_document",
                        functools.partial(remote.fetch_document, max_bytes=1000))
    result = cli("scan", docs.url("/big"))
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        f"Error: {docs.url('/big')}: larger than 0.001 MB (the limit for a document)")


def test_connection_refused_is_one_line(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as s:   # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = cli("scan", f"http://127.0.0.1:{port}/report.html")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        f"Error: http://127.0.0.1:{port}/report.html: connection refused")


def test_dns_failure_reads_as_such() -> None:
    # A real lookup of a made-up name would leave the machine; the message is what httpcore raises
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    assert _connect_reason(error) == "host name not found (DNS)"


def test_https_with_the_ca_bundle_of_requests_ca_bundle(cli, tmp_path, tls_ca, ca_file, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with serve(_routes(), tls=tls_server_context(tls_ca)) as secure:   # type: ignore[arg-type]
        url = secure.url("/paper.html")
        untrusted = cli("scan", url)
        assert untrusted.exit_code == 3
        assert "TLS certificate not trusted" in untrusted.stderr
        assert len(untrusted.stderr.splitlines()) == 2            # the error and the summary
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        assert cli("scan", url).exit_code == 0
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        assert cli("scan", url).exit_code == 0
    assert _documents(tmp_path)[url] == ("html", ["https://example.org/plan"])


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"])
def test_a_ca_variable_naming_a_missing_file_is_one_line(cli, tmp_path, monkeypatch, variable) -> None:  # type: ignore[no-untyped-def]
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "missing.pem"))
    result = cli("scan", "https://127.0.0.1:9/report.html")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        "Error: https://127.0.0.1:9/report.html: cannot verify TLS certificates: "
        f"{variable}={tmp_path / 'missing.pem'}: no such file or directory")


def test_the_environment_proxy_is_used_and_no_proxy_bypasses_it(  # type: ignore[no-untyped-def]
        cli, tmp_path, docs, monkeypatch) -> None:
    with serve({}, host="127.0.0.5", default=forward_proxy()) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        assert cli("scan", docs.url("/paper.html")).exit_code == 0
        assert [r.target for r in proxy.requests] == [docs.url("/paper.html")]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert cli("scan", docs.url("/notes.md")).exit_code == 0
        assert len(proxy.requests) == 1


# --- stored names -------------------------------------------------------------------------------

def test_documents_are_stored_relative_to_the_folder_scanned_from(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "paper.md").write_text(MD, encoding="utf-8")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    outside.write_text(MD, encoding="utf-8")
    try:
        assert cli("scan", "docs", str(tmp_path / "docs" / "paper.md"), str(outside)).exit_code == 0
        assert sorted(_documents(tmp_path)) == sorted(["docs/paper.md", str(outside.resolve())])
        for ref in ("docs/paper.md", str(tmp_path / "docs" / "paper.md"), "paper.md"):
            listed = json.loads(cli("citations", "--document", ref, "--format", "json").stdout)
            assert [c["document"] for c in listed] == ["docs/paper.md"]
    finally:
        outside.unlink()


def test_a_database_made_elsewhere_matches_this_checkout(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ci, local = tmp_path / "ci", tmp_path / "local"
    for root in (ci, local):
        (root / "docs").mkdir(parents=True)
        (root / "docs" / "paper.md").write_text(MD, encoding="utf-8")
    monkeypatch.chdir(ci)
    assert cli("scan", "docs", "--db", str(tmp_path / "shared.db")).exit_code == 0
    monkeypatch.chdir(local)
    again = cli("scan", "docs", "--db", str(tmp_path / "shared.db"))
    assert "1 unchanged document(s)" in again.stderr
    db = sqlite_utils.Database(tmp_path / "shared.db")
    assert [r["path"] for r in db.query("select path from documents")] == ["docs/paper.md"]


def test_an_old_database_with_absolute_paths_keeps_its_documents(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "paper.md").write_text(MD, encoding="utf-8")
    assert cli("scan", "paper.md").exit_code == 0
    absolute = str((tmp_path / "paper.md").resolve())
    with sqlite3.connect(tmp_path / "citewatch.db") as conn:   # as citewatch stored it before
        conn.execute("update documents set path = ?", [absolute])
    listed = json.loads(cli("citations", "--document", "paper.md", "--format", "json").stdout)
    assert [c["document"] for c in listed] == [absolute]        # found by either form
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    before = [(r["id"], r["first_scanned_at"]) for r in db.query("select * from documents")]
    rescan = cli("scan", "paper.md")
    assert "1 unchanged document(s)" in rescan.stderr           # the same row, renamed
    after = [(r["id"], r["first_scanned_at"], r["path"]) for r in db.query("select * from documents")]
    assert after == [(*before[0], "paper.md")]
