"""
Benchmark the archive engine against the local fake Wayback Machine: thousands of lost links.

    python bench/bench_archive.py [--urls 3000] [--seed 7] [--extra-archive]

``--extra-archive`` adds a second archive after the Wayback Machine (tests/fake_memento.py, on its
own loopback port, so its own host and gate), holding captures of most of the URLs the Wayback
Machine never archived or excludes, and of some it has: the report gives its requests per
citation it resolved, and checks that it was asked only about what Wayback could not resolve.

The real gate runs on a VirtualClock, a discrete-event clock: a sleep moves virtual time
forward instead of waiting, but only while no request is on the wire, so the run takes seconds
while the clock shows how long the same work would take at the default settings (a lookup every
2.5 s, a replay every 0.5 s, 2 requests at once per archive host). The fake reads the same clock
and refuses like archive.org's front end (more than 3 requests in progress at once from one
address, or more than 5 in any second: tests/fake_wayback.py). The report gives the 429s
received, the most connections open and requests in progress at once per archive host (the
fake stands for both web.archive.org and archive.org), archive requests per resolved citation
and the projected time.

The mix of URLs is made up but shaped like lost citations: most archived with a few captures,
some only as a redirect capture, some whose nearest capture is a soft-404, some the
Availability API answers nothing for although they are archived, some never archived, some
excluded from the Wayback Machine. Many URLs are cited more than once, at different dates.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import (  # noqa: E402
    DEFAULT_LOOKUP_PER_MIN,
    DEFAULT_REPLAY_PER_MIN,
    ArchiveSettings,
    Capture,
    LookupRequest,
    Outcome,
    Target,
    VirtualClock,
    Wayback,
    choose_capture,
    settings_from_env,
)
from checker.judge.classify import judge_capture  # noqa: E402
from tests.fake_memento import FakeMemento, serve_memento  # noqa: E402
from tests.fake_wayback import FakeWayback, serve_wayback, stamp  # noqa: E402

KINDS = (("archived", 0.58), ("redirect", 0.08), ("soft404", 0.06), ("blind", 0.10),
         ("never", 0.13), ("excluded", 0.05))


def populate(fake: FakeWayback, count: int, rng: random.Random
             ) -> tuple[list[LookupRequest], dict[str, datetime]]:
    """Captures in the fake, one LookupRequest per URL with 1-3 citation dates, and the capture
    time a perfect resolver would give each citation key (the truth: choose.py's rule over the
    captures that really are the cited page)."""
    requests = []
    best: dict[str, datetime] = {}
    start = datetime(2008, 1, 1, tzinfo=UTC)
    kinds, weights = zip(*KINDS, strict=True)
    for n in range(count):
        kind = rng.choices(kinds, weights)[0]
        url = f"https://site{n % 97}.example/{kind}/{n}/page.html"
        cited = [start + timedelta(days=rng.randrange(0, 5000))
                 for _ in range(rng.choice((1, 1, 2, 3)))]
        title = f"Report number {n}"
        if kind in ("archived", "blind", "soft404", "excluded"):
            for _ in range(rng.randrange(1, 6)):
                moment = start + timedelta(days=rng.randrange(0, 5500),
                                           seconds=rng.randrange(86400))
                fake.add(url, stamp(moment), title=title)
            if kind == "blind":
                fake.blind(url)
            if kind == "excluded":
                fake.block(url)
            if kind == "soft404":        # a capture of the dead page right before each citation
                for moment in cited:
                    fake.add(url, stamp(moment - timedelta(hours=1)), title="Page not found")
        elif kind == "redirect":
            target = url.replace("/page.html", "/moved.html")
            moment = start + timedelta(days=rng.randrange(0, 5500))
            fake.add(url, stamp(moment), "301", redirect_to=target)
            fake.add(target, stamp(moment + timedelta(seconds=20)), title=title)
        failing = max(cited) + timedelta(days=rng.randrange(30, 900))
        targets = tuple(Target(f"{n}-{i}", moment, title if i == 0 else None)
                        for i, moment in enumerate(cited))
        requests.append(LookupRequest(url, targets, failing_since=failing))
        if kind not in ("never", "excluded"):
            good = [Capture(timestamp=c.timestamp, captured_at=c.captured_at, original=c.url,
                            status_code=200)
                    for c in fake.captures if c.url in (url, url.replace("/page.html",
                                                                         "/moved.html"))
                    and c.status == "200" and c.title == title]
            for target in targets:
                chosen = choose_capture(good, target.at, failing_since=failing)
                if chosen is not None:
                    best[target.key] = chosen.captured_at
    return requests, best


def populate_other(other: FakeMemento, requests: list[LookupRequest], rng: random.Random
                   ) -> None:
    """Captures in the second archive: most URLs Wayback lacks or excludes, a few it has."""
    for request in requests:
        kind = request.url.split("/")[3]
        if (kind in ("never", "excluded") and rng.random() < 0.7) or \
                (kind == "archived" and rng.random() < 0.2):
            title = f"Report number {request.url.split('/')[4]}"
            for target in request.targets:
                other.add(request.url, stamp(target.at - timedelta(days=rng.randrange(1, 200))),
                          title=title)


async def run(count: int, seed: int, extra_archive: bool = False) -> None:
    rng = random.Random(seed)
    clock = VirtualClock()
    with serve_wayback(clock=clock) as fake, ExitStack() as stack:
        requests, best = populate(fake, count, rng)
        citations = sum(len(r.targets) for r in requests)
        host = fake.base_url.removeprefix("http://")
        settings = settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                                     base=ArchiveSettings())
        other: FakeMemento | None = None
        if extra_archive:
            other = stack.enter_context(serve_memento(name="other", clock=clock))
            populate_other(other, requests, rng)
            settings = replace(settings, memento_archives=(other.archive,))
        unresolved_urls: set[str] = set()     # URLs with a citation Wayback could not resolve
        by_other = 0                          # such citations (the other archive's to answer)
        outcomes: Counter[str] = Counter()
        off_by_days: list[float] = []      # per citation with a good capture: chosen vs best
        sources: Counter[str] = Counter()
        started = time.perf_counter()
        # judged as citewatch judges them, so the soft-404 captures are rejected
        async with Wayback(settings, clock=clock, sleep=clock.sleep,
                           judge=judge_capture) as wayback:
            async for result in wayback.resolve(requests):
                sources[result.source or "-"] += 1
                outcomes.update(str(choice.outcome) for choice in result.choices)
                for choice in result.choices:
                    from_other = choice.snapshot is not None and choice.snapshot.archive != \
                        "wayback"
                    if from_other or choice.outcome in (Outcome.NO_CAPTURE, Outcome.EXCLUDED):
                        unresolved_urls.add(result.url)
                        by_other += 1
                for choice in result.choices:
                    if choice.key in best:
                        off_by_days.append(
                            abs((choice.snapshot.captured_at - best[choice.key]).total_seconds())
                            / 86400 if choice.snapshot else float("inf"))
            sent = wayback.requests_sent
            throttled = wayback.throttled
            others = wayback.others
        elapsed = time.perf_counter() - started

    resolved = outcomes[str(Outcome.FOUND)]
    total = sum(sent.values())
    # the paces alone: every lookup 60/24 s apart, every replay 60/120 s apart, side by side
    by_pace_min = max(sent.get("lookup", 0) / DEFAULT_LOOKUP_PER_MIN,
                      sent.get("replay", 0) / DEFAULT_REPLAY_PER_MIN)
    print(f"URLs {count}, citations {citations} (seed {seed})")
    print("outcomes  " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print("sources   " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    print("requests  " + ", ".join(f"{k} {v}" for k, v in sorted(sent.items()))
          + f"  (fake saw: {dict(sorted(fake.counts.items()))})")
    print(f"archive requests per resolved citation: {total / max(resolved, 1):.2f} "
          f"({total} requests, {resolved} citations resolved)")
    print(f"lookup requests per distinct URL: {sent.get('lookup', 0) / count:.2f}")
    close = sum(1 for days in off_by_days if days <= 30)
    exact = sum(1 for days in off_by_days if days < 1 / 86400 * 60)
    print(f"citations with a good capture: {len(off_by_days)}; given one within 30 days of the "
          f"best: {close} ({100 * close / max(len(off_by_days), 1):.1f}%), the best itself: "
          f"{exact} ({100 * exact / max(len(off_by_days), 1):.1f}%)")
    print(f"429s received: {throttled} (the fake refused: "
          f"{dict(fake.refused) or 'nothing'})")
    for address in sorted(fake.most_connections):
        print(f"archive host {host} (for web.archive.org and archive.org), from {address}: "
              f"at most {fake.most_connections[address]} connection(s) open and "
              f"{fake.most_in_progress.get(address, 0)} request(s) in progress at once; "
              f"{fake.accepted[address]} connection(s) in all")
    print(f"busiest second: {fake.max_in_window(window_s=1.0)} request(s); closest lookups "
          f"{fake.min_gap(['cdx', 'availability', 'availability-batch']):.1f} s apart, "
          f"closest replays {fake.min_gap(['replay']):.1f} s apart")
    print(f"projected time at the default settings ({DEFAULT_LOOKUP_PER_MIN} lookups/min, "
          f"{DEFAULT_REPLAY_PER_MIN} replays/min, evenly spaced): {clock() / 60:.1f} min "
          f"(the paces alone: {by_pace_min:.1f} min)")
    if other is not None and others is not None:
        asked = [path.split("/timemap/link/", 1)[1] for endpoint, path, _, _ in other.log
                 if endpoint == "timemap"]
        found = others.found["other"]
        print(f"extra archive: {others.requests['other']} request(s) "
              f"({dict(sorted(other.counts.items()))}), {found} citation(s) resolved there: "
              f"{others.requests['other'] / max(found, 1):.2f} request(s) per citation it "
              f"resolved; 429s: {dict(other.refused) or 'none'}, at most "
              f"{other.most_in_progress} request(s) in progress at once")
        only_unresolved = set(asked) <= unresolved_urls and others.asked["other"] == by_other
        print(f"extra archive asked about {len(asked)} URL(s), {others.asked['other']} "
              f"citation(s): only those Wayback could not resolve: "
              f"{'yes' if only_unresolved else 'NO'}")
    print(f"wall time here: {elapsed:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--urls", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--extra-archive", action="store_true",
                        help="Add a second (Memento) archive after the Wayback Machine.")
    args = parser.parse_args()
    asyncio.run(run(args.urls, args.seed, args.extra_archive))


if __name__ == "__main__":
    main()
