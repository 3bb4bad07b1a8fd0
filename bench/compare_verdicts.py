"""
Same verdicts before and after a change of the HTTP engine: `citewatch check` of a few thousand
loopback URLs with the committed code (HEAD) and with the working tree, compared URL by URL.

    .venv/bin/python bench/compare_verdicts.py                  # HEAD vs the working tree
    .venv/bin/python bench/compare_verdicts.py --before /tmp/before --urls 5000

The "before" tree is `git archive HEAD` unpacked in a temporary folder (or `--before DIR`, any
tree with `checker/__main__.py`), run as `python -m checker` with that tree first on
PYTHONPATH, with this virtualenv's Python (so it needs the dependencies of both: the old
transport's httptools stays installed in the README's virtualenv).

The URLs: `--urls` on bench/bench_server.py's hosts (60 % pages, 20 % redirects, 20 % 404, 20 hosts)
and, on one tests/servers.py server, the ways real servers answer that the suite pins: titles
that match and that drifted, 403/410/429/503, redirect chains and loops, a meta refresh, gzip,
chunked and close-delimited bodies, bare-LF framing, a malformed status line, resets, silent
closes, a server that never answers, a PDF, a refused port. Both runs use the same options
(`--host-interval 0 --retries 0 --confirm 1 --timeout 2`) and the same servers, which keep no
state between requests, so every difference is the code's.

Prints the verdict counts of both runs and every URL whose verdict, status or final URL
differ; exits 1 if a verdict differs.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_check import Server, child_env, make_plan  # noqa: E402
from bench.bench_server import page_title  # noqa: E402
from tests.servers import (  # noqa: E402
    Behaviour,
    Exchange,
    LocalServer,
    close_silently,
    gzipped,
    hang,
    html_page,
    malformed,
    page,
    redirect,
    reset,
    serve,
)

CHECK_OPTIONS = ["--host-interval", "0", "--per-host", "4", "--retries", "0", "--confirm", "1",
                 "--max-age", "0", "--timeout", "2"]


def _raw(answer: bytes, *, keep: bool = False) -> Behaviour:
    def behaviour(exchange: Exchange) -> bool:
        exchange.answered()
        exchange.send(answer)
        return keep

    return behaviour


def varied_routes() -> dict[str, tuple[Behaviour, str]]:
    """path -> (behaviour, the title the citation gives)."""
    title = "Annual report on network policy"
    body = "<p>" + "The ministry published its yearly figures. " * 40 + "</p>"
    chunked = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                          for part in (html_page(title).encode()[:40], html_page(title).encode()[40:]))
               + b"0\r\n\r\n")
    routes: dict[str, tuple[Behaviour, str]] = {
        "/page": (page(200, title=title, body=body), title),
        "/drifted": (page(200, title="Something else entirely", body=body), title),
        "/untitled": (page(200, body=body), title),
        "/gone": (page(410, title="Gone"), title),
        "/forbidden": (page(403, title="Forbidden"), title),
        "/busy": (page(429, title="Too many", headers=[("Retry-After", "3600")]), title),
        "/down": (page(503, title="Unavailable"), title),
        "/chain": (redirect(302, "/chain/2"), title),
        "/chain/2": (redirect(301, "/page"), title),
        "/permanent": (redirect(308, "/page"), title),
        "/loop": (redirect(302, "/loop"), title),
        "/refresh": (page(200, title="Redirecting", body="",
                          headers=[("Refresh", "0; url=/page")]), title),
        "/gzip": (gzipped(200, html_page(title, body)), title),
        "/chunked": (_raw(chunked, keep=True), title),
        "/close-delimited": (_raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
                                  + html_page(title, body).encode()), title),
        "/bare-lf": (_raw(b"HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: %d\n\n%s"
                          % (len(html_page(title)), html_page(title).encode()), keep=True), title),
        "/malformed": (malformed(), title),
        "/reset": (reset(), title),
        "/silent-close": (close_silently(), title),
        "/never": (hang(), title),
        "/report.pdf": (page(200, body=b"%PDF-1.7\n" + b"0" * 200_000,
                             content_type="application/pdf"), title),
    }
    return routes


@contextmanager
def varied_server() -> Iterator[tuple[LocalServer, dict[str, tuple[Behaviour, str]]]]:
    routes = varied_routes()
    with serve({path: behaviour for path, (behaviour, _) in routes.items()},
               host="127.0.0.1") as server:
        yield server, routes


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_document(cited: list[tuple[str, str]], folder: Path) -> None:
    notes = "\n".join(f"[^{i}]: “{title},” Example Ministry, accessed May 3, 2023, <{url}>"
                      for i, (url, title) in enumerate(cited, 1))
    body = " ".join(f"Figures rose.[^{i}]" for i in range(1, len(cited) + 1))
    (folder / "report.md").write_text(f"# Report\n\n{body}\n\n{notes}\n")


def run_tree(tree: Path, docs: Path, db: Path) -> None:
    env = {**child_env(), "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    for args in (["scan", "--db", str(db), str(docs)], ["check", "--db", str(db), *CHECK_OPTIONS]):
        done = subprocess.run([sys.executable, "-m", "checker", *args], cwd=tree, env=env,
                              capture_output=True, text=True, timeout=900)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{tree}: citewatch {args[0]} failed ({done.returncode}):\n"
                             f"{done.stderr[-2000:]}")
        print(f"  {tree}: {args[0]}: {done.stderr.strip().splitlines()[-1:]}")


def outcomes(db: Path) -> dict[str, tuple[str, int | None, str | None, str]]:
    """url -> (verdict, status, final URL, reason) of its latest check."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "select l.url, k.verdict, k.status, k.final_url, k.reason from checks k "
            "join links l on l.id = k.link_id where k.id in (select max(id) from checks group by "
            "link_id)").fetchall()
    finally:
        conn.close()
    return {url: (verdict, status, final, reason or "") for url, verdict, status, final, reason in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--urls", type=int, default=3000, help="URLs on the benchmark server")
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--copies", type=int, default=10,
                        help="URLs per route of the varied server (a query string apart)")
    parser.add_argument("--before", type=Path, help="the tree before the change (default: "
                                                   "git archive HEAD, unpacked)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compare-verdicts-") as tmp_name:
        tmp = Path(tmp_name)
        before = args.before
        if before is None:
            before = tmp / "before"
            before.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        server = Server(args.hosts, 0.0, 20)
        try:
            with varied_server() as (web, routes):
                plan = make_plan(args.urls, args.hosts, server.port, (0.6, 0.2, 0.2), 0.0, 1)
                cited = [(url, page_title(int(url.rsplit("/", 1)[1]))) for url in plan.urls]
                for path, (_, title) in routes.items():
                    cited += [(web.url(f"{path}?copy={n}"), title) for n in range(args.copies)]
                port = closed_port()
                cited += [(f"http://127.0.0.1:{port}/refused?copy={n}", "Refused")
                          for n in range(args.copies)]
                docs = tmp / "docs"
                docs.mkdir()
                write_document(cited, docs)
                print(f"{len(cited)} URLs: {len(plan.urls)} on {args.hosts} benchmark hosts, "
                      f"{len(cited) - len(plan.urls)} on the varied server")
                results = {}
                for name, tree in (("before", before), ("after", ROOT)):
                    db = tmp / f"{name}.db"
                    run_tree(tree, docs, db)
                    results[name] = outcomes(db)
        finally:
            server.close()
    old, new = results["before"], results["after"]
    for name, found in results.items():
        counts = Counter(verdict for verdict, *_ in found.values())
        print(f"{name:>6}: {len(found)} URLs checked; " + ", ".join(
            f"{n} {v}" for v, n in sorted(counts.items())))
    differ = [url for url in sorted(old.keys() | new.keys()) if old.get(url, ("",))[0]
              != new.get(url, ("",))[0]]
    detail = [url for url in sorted(old.keys() & new.keys())
              if old[url][:3] != new[url][:3] and url not in differ]
    for url in differ:
        print(f"VERDICT DIFFERS {url}\n   before {old.get(url)}\n   after  {new.get(url)}")
    for url in detail:
        print(f"status or final URL differs {url}\n   before {old[url]}\n   after  {new[url]}")
    reworded = Counter((old[url][3], new[url][3]) for url in old.keys() & new.keys()
                       if old[url][3] != new[url][3])
    for (was, now), n in reworded.most_common(5):
        print(f"reason reworded ({n}×)\n   before {was}\n   after  {now}")
    reasons = sum(reworded.values())
    print(f"verdicts that differ: {len(differ)}; status or final URL only: {len(detail)}; "
          f"reason text only: {reasons} (error messages are the engine's own words)")
    return 1 if differ else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
