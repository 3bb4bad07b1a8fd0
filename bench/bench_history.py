"""
History benchmark: what a database costs after years of nightly checks.

    .venv/bin/python bench/bench_history.py                          # 100,000 links, 365 nights
    .venv/bin/python bench/bench_history.py --links 10000 --nights 365 --at 1,30,365

Builds the history of `--links` cited links checked once a night for `--nights` nights, through
`Store.record_check` as `citewatch check` records them (commit windows included), and at each
night of `--at` prints:

* the database's size (after a WAL checkpoint) and its rows of checks;
* `citewatch report --format json` and `--format html` (to /dev/null): wall time and peak
  memory (max RSS, from wait4) of the command as a child process, start-up included;
* `citewatch check` with nothing due (every link checked within `--max-age`): the same.

The links: 90 % alive all along; 5 % die on a random night and stay dead (404); 3 % blocked
(403) all along; 2 % flapping, each night alive or timing out (unreachable) at random. Every
check carries evidence (headers, timings, title) that differs from night to night, as real
checks do. Each night is a finished `check` run, so the report's chart and "since the previous
run" have runs to show.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.models import CheckResult, Hop, Observation, Verdict  # noqa: E402
from checker.store.database import open_store  # noqa: E402
from citations.models import DocumentFormat, ParsedDocument  # noqa: E402
from citations.records import make_citation  # noqa: E402

CITATIONS_PER_DOCUMENT = 1000


def kind_of(i: int) -> str:
    bucket = i % 100
    return "flapping" if bucket < 2 else "blocked" if bucket < 5 else "dies" if bucket < 10 else "alive"


def check_of(i: int, url: str, night: int, at: datetime, death: dict[int, int],
             rnd: random.Random) -> CheckResult:
    kind = kind_of(i)
    elapsed = rnd.randint(20, 900)
    headers = (("content-type", "text/html; charset=utf-8"), ("server", "nginx"),
               ("date", at.strftime("%a, %d %b %Y %H:%M:%S GMT")),
               ("etag", f'"{rnd.getrandbits(48):x}"'))
    if kind == "flapping" and rnd.random() < 0.5:
        obs = Observation(url=url, failure=None, error="timed out after 15 s", elapsed_ms=15000)
        return CheckResult(url=url, verdict=Verdict.UNREACHABLE, reason="timed out",
                           observation=obs, checked_at=at)
    if kind == "dies" and night >= death[i]:
        obs = Observation(url=url, final_url=url, status=404, chain=(Hop(404, url),),
                          headers=headers, content_type="text/html", title="Not Found",
                          body_bytes=1200, elapsed_ms=elapsed)
        return CheckResult(url=url, verdict=Verdict.DEAD, reason="404 Not Found",
                           observation=obs, checked_at=at)
    if kind == "blocked":
        obs = Observation(url=url, final_url=url, status=403, chain=(Hop(403, url),),
                          headers=headers, content_type="text/html", title="Access denied",
                          body_bytes=800, elapsed_ms=elapsed)
        return CheckResult(url=url, verdict=Verdict.BLOCKED, reason="403: the site refuses robots",
                           observation=obs, checked_at=at)
    obs = Observation(url=url, final_url=url, status=200, chain=(Hop(200, url),), headers=headers,
                      content_type="text/html", title=f"Annual report {i}",
                      body_bytes=rnd.randint(20_000, 90_000), elapsed_ms=elapsed)
    return CheckResult(url=url, verdict=Verdict.ALIVE, reason="200 OK", observation=obs,
                       checked_at=at)


def run_child(argv: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit status) of a command, start-up included."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(db: Path, night: int) -> None:
    size = db.stat().st_size
    with open_store(db) as store:
        store.db.execute("pragma wal_checkpoint(truncate)")
        rows, checks = store.db.execute("select count(*), sum(repeats) from checks").fetchone()
        size = store._file_bytes()
    cli = [sys.executable, "-m", "checker"]
    figures = []
    for name, args in (("report json", ["report", "--format", "json"]),
                       ("report html", ["report", "--format", "html"]),
                       ("check, nothing due", ["check", "--max-age", "100000d"])):
        wall, rss, status = run_child([*cli, *args, "--db", str(db)])
        figures.append(f"{name} {wall:.2f} s {rss:.0f} MB" + (f" (exit {status})" if status > 1 else ""))
    print(f"night {night:>4}: {size / 1e6:8.1f} MB, {rows:>10,} rows for {checks:>11,} checks | "
          + " | ".join(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip())
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--at", default="1,30,365", help="nights at which to measure")
    parser.add_argument("--db", type=Path, default=Path("/tmp/citewatch-bench-history.db"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    measure_at = {int(n) for n in args.at.split(",") if int(n) <= args.nights}
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)

    rnd = random.Random(args.seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=args.nights)
    clock = [start]
    urls = [f"https://host{i % 997}.example/reports/{i}" for i in range(args.links)]
    death = {i: rnd.randrange(args.nights) for i in range(args.links) if kind_of(i) == "dies"}
    print(f"{args.links:,} links over {args.nights} nights", flush=True)
    with open_store(args.db, clock=lambda: clock[0]) as store:
        for d in range(0, args.links, CITATIONS_PER_DOCUMENT):
            store.save_document(ParsedDocument(
                path=f"/docs/paper-{d // CITATIONS_PER_DOCUMENT}.md", format=DocumentFormat.MARKDOWN,
                content_hash=str(d), citations=tuple(
                    make_citation(label=str(n), line=n, text=f"“Report {n},” {urls[n]}",
                                  urls=[urls[n]])
                    for n in range(d, min(d + CITATIONS_PER_DOCUMENT, args.links)))))
        ids = {r["url"]: r["id"] for r in store.db.query("select id, url from links")}
        link_ids = [ids[url] for url in urls]
        built = time.perf_counter()
        for night in range(1, args.nights + 1):
            clock[0] = start + timedelta(days=night)
            run_id = store.start_run("check")
            window = store.commit_window(max_rows=2000, max_s=1.0)
            for i, url in enumerate(urls):
                window.open()
                at = clock[0] + timedelta(milliseconds=i)
                store.record_check(link_ids[i], check_of(i, url, night, at, death, rnd),
                                   run_id=run_id)
                window.written()
            window.commit()
            clock[0] += timedelta(milliseconds=args.links + 1)
            store.finish_run(run_id, "finished")
            if night in measure_at:
                print(f"  (built in {time.perf_counter() - built:.0f} s)", flush=True)
                store.db.execute("pragma wal_checkpoint(truncate)")
                measure(args.db, night)


if __name__ == "__main__":
    main()
