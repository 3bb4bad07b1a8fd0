"""
History benchmark: what a database costs after years of nightly checks.

    .venv/bin/python bench/bench_history.py                          # 100,000 links, 365 nights
    .venv/bin/python bench/bench_history.py --links 10000 --nights 365 --at 1,30,365
    .venv/bin/python bench/bench_history.py --nights 30 --horizon 365 --at 1,30   # its first 30
    .venv/bin/python bench/bench_history.py --measure-only --nights 365           # measure again
    .venv/bin/python bench/bench_history.py --measure-only --nights 365 --db FULL --baseline NIGHT30

Builds the history of `--links` cited links checked once a night for `--nights` nights, through
`Store.record_check` as `citewatch check` records them (commit windows included), and at each
night of `--at` prints:

* the database's size (after a WAL checkpoint) and its rows of checks;
* `citewatch report --format json` and `--format html` (to /dev/null): wall time and peak
  memory (max RSS, from wait4) of the command as a child process, start-up included (spawned
  by a small launcher process: Linux counts the spawning process's own peak in a child's);
* `citewatch check` with nothing due (every link checked within `--max-age`): the same;

each with its CPU time too (user + system, from wait4: the machine is shared, so wall time is
noisy), the median of `--repeat` runs (3), and at the end the ratio of each figure at the last
night to the same at night 30. Like
the nightly workflow, which prunes before it caches the database, it runs `Store.prune` (fold
and VACUUM) every `--prune-every` nights and before each measure.

The links: 90 % alive all along; 5 % die on a random night and stay dead (404); 3 % blocked
(403) all along; 2 % flapping, each night alive or timing out (unreachable) at random. Every
check carries evidence (headers, timings, title) that differs from night to night, as real
checks do. Each night is a finished `check` run, so the report's chart and "since the previous
run" have runs to show.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.models import CheckResult, Hop, Observation, Verdict  # noqa: E402
from checker.run.check import CHECK_BATCH  # noqa: E402
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


# Started from a small process: Linux counts in a child's max RSS the peak RSS of the process
# that spawned it (the memory it shared until exec), and this benchmark's own peak is large.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
      os.waitstatus_to_exitcode(status))
"""


def run_child(argv: list[str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB, exit status) of a command, start-up included."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3])


# --all: every row rendered, as before reports left alive rows out by default
COMMANDS = (("report json", ["report", "--format", "json", "--all"]),
            ("report html", ["report", "--format", "html", "--all"]),
            ("check, nothing due", ["check", "--max-age", "100000d"]))


def measure(db: Path, night: int, repeat: int = 3) -> dict[str, float]:
    """Print one night's figures and return them by name (see `measure_together`)."""
    return measure_together([(db, night)], repeat)[night]


def measure_together(databases: list[tuple[Path, int]], repeat: int = 3
                     ) -> dict[int, dict[str, float]]:
    """Print each (database, night)'s figures and return them by night and name: of `repeat`
    runs of each command, the median wall and CPU time and the largest peak memory. This
    machine's speed drifts by a third from one minute to the next, so one run says more of the
    machine than of the code, and the databases take turns, run by run, so that a slow spell
    falls on all of them alike (their ratios are what the targets compare)."""
    sizes = {}
    for db, night in databases:
        with open_store(db) as store:
            store.db.execute("pragma wal_checkpoint(truncate)")
            rows, checks = store.db.execute("select count(*), sum(repeats) from checks").fetchone()
            sizes[night] = (store._file_bytes(), rows, checks)
    cli = [sys.executable, "-m", "checker"]
    runs: dict[tuple[int, str], list[tuple[float, float, float, int]]] = {}
    for _ in range(repeat):
        for name, args in COMMANDS:
            for db, night in databases:
                runs.setdefault((night, name), []).append(
                    run_child([*cli, *args, "--db", str(db)]))
    measured = {}
    for _, night in databases:
        size, rows, checks = sizes[night]
        figures = {"database MB": size / 1e6}
        shown = []
        for name, _ in COMMANDS:
            taken = runs[(night, name)]
            wall = statistics.median(r[0] for r in taken)
            cpu = statistics.median(r[1] for r in taken)
            rss = max(r[2] for r in taken)
            status = max(r[3] for r in taken)
            figures.update({f"{name} s": wall, f"{name} CPU s": cpu, f"{name} MB": rss})
            shown.append(f"{name} {wall:.2f} s ({cpu:.2f} s CPU) {rss:.0f} MB"
                         + (f" (exit {status})" if status > 1 else ""))
        print(f"night {night:>4}: {size / 1e6:8.1f} MB, {rows:>10,} rows for {checks:>11,} "
              f"checks (median of {repeat} runs) | " + " | ".join(shown), flush=True)
        measured[night] = figures
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip())
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--at", default="1,30,365", help="nights at which to measure")
    parser.add_argument("--db", type=Path, default=Path("/tmp/citewatch-bench-history.db"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prune-every", type=int, default=7, metavar="NIGHTS",
                        help="run `prune` (fold and VACUUM) every this many nights, and before "
                             "each measure (0: only before each measure)")
    parser.add_argument("--horizon", type=int, metavar="NIGHTS",
                        help="the dying links die on a night drawn from this many (default: "
                             "--nights); `--nights 30 --horizon 365` builds the first 30 nights "
                             "of the default run")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the database at --db as it is (built by an earlier run "
                             "of --nights nights)")
    parser.add_argument("--baseline", type=Path, metavar="DB",
                        help="with --measure-only: also measure this database (built by "
                             "`--nights 30 --horizon 365`) as night 30, in turns with --db, "
                             "and print the ratios")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each command; the median is printed (default: 3)")
    args = parser.parse_args()
    if args.measure_only:   # labelled as night --nights
        databases = [(args.baseline, 30)] if args.baseline else []
        measured = measure_together([*databases, (args.db, args.nights)], args.repeat)
        if args.baseline:
            print_ratios(measured[args.nights], measured[30], args.nights)
        return
    measure_at = {int(n) for n in args.at.split(",") if int(n) <= args.nights}
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)

    rnd = random.Random(args.seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=args.nights)
    clock = [start]
    urls = [f"https://host{i % 997}.example/reports/{i}" for i in range(args.links)]
    death = {i: rnd.randrange(args.horizon or args.nights) for i in range(args.links)
             if kind_of(i) == "dies"}
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
        measured: dict[int, dict[str, float]] = {}
        for night in range(1, args.nights + 1):
            clock[0] = start + timedelta(days=night)
            run_id = store.start_run("check")
            window = store.commit_window(max_rows=2000, max_s=1.0)
            for i, url in enumerate(urls):
                if i % CHECK_BATCH == 0:   # as `check` does, a batch of links at a time
                    store.expect_checks(link_ids[i:i + CHECK_BATCH])
                window.open()
                at = clock[0] + timedelta(milliseconds=i)
                store.record_check(link_ids[i], check_of(i, url, night, at, death, rnd),
                                   run_id=run_id)
                window.written()
            window.commit()
            clock[0] += timedelta(milliseconds=args.links + 1)
            store.finish_run(run_id, "finished")
            if night in measure_at or (args.prune_every and night % args.prune_every == 0):
                pruned = store.prune()   # as the nightly workflow does before it caches
                if night in measure_at:
                    print(f"  (built in {time.perf_counter() - built:.0f} s; prune folded "
                          f"{pruned.folded:,} rows)", flush=True)
            if night in measure_at:
                store.db.execute("pragma wal_checkpoint(truncate)")
                measured[night] = measure(args.db, night, args.repeat)
    if 30 in measured and args.nights in measured and args.nights != 30:
        print_ratios(measured[args.nights], measured[30], args.nights)


def print_ratios(late: dict[str, float], early: dict[str, float], nights: int) -> None:
    print(f"{nights}/30 nights: " + ", ".join(
        f"{name} {late[name] / early[name]:.2f}x" for name in early), flush=True)


if __name__ == "__main__":
    main()
