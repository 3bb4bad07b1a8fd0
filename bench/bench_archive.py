"""
Benchmark the archive engine against the local fake Wayback Machine: thousands of lost links.

    python bench/bench_archive.py [--urls 3000] [--seed 7]

The real rate limiter runs in "accounting" mode: its clock is a VirtualClock whose sleep moves
time forward instead of waiting, so the run takes seconds while the clock shows how long the
same work would take at the default limits (24 lookups/min, 120 replays/min). The report gives
archive requests per resolved citation and that projected time.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import (  # noqa: E402
    DEFAULT_LOOKUP_PER_MIN,
    DEFAULT_REPLAY_PER_MIN,
    ArchiveSettings,
    LookupRequest,
    Outcome,
    Target,
    VirtualClock,
    Wayback,
    settings_from_env,
)
from tests.fake_wayback import FakeWayback, serve_wayback, stamp  # noqa: E402

KINDS = (("archived", 0.58), ("redirect", 0.08), ("soft404", 0.06), ("blind", 0.10),
         ("never", 0.13), ("excluded", 0.05))


def populate(fake: FakeWayback, count: int, rng: random.Random) -> list[LookupRequest]:
    """Captures in the fake, and one LookupRequest per URL with 1-3 citation dates."""
    requests = []
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
    return requests


async def run(count: int, seed: int) -> None:
    rng = random.Random(seed)
    clock = VirtualClock()
    with serve_wayback(clock=clock) as fake:
        requests = populate(fake, count, rng)
        citations = sum(len(r.targets) for r in requests)
        settings = settings_from_env({"CITEWATCH_WAYBACK_URL": fake.base_url},
                                     base=ArchiveSettings())
        outcomes: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        started = time.perf_counter()
        async with Wayback(settings, clock=clock, sleep=clock.sleep) as wayback:
            async for result in wayback.resolve(requests):
                sources[result.source or "-"] += 1
                outcomes.update(str(choice.outcome) for choice in result.choices)
            sent = wayback.requests_sent
        elapsed = time.perf_counter() - started

    resolved = outcomes[str(Outcome.FOUND)]
    total = sum(sent.values())
    by_counts_min = max(sent.get("lookup", 0) / DEFAULT_LOOKUP_PER_MIN,
                          sent.get("replay", 0) / DEFAULT_REPLAY_PER_MIN)
    print(f"URLs {count}, citations {citations} (seed {seed})")
    print("outcomes  " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print("sources   " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    print("requests  " + ", ".join(f"{k} {v}" for k, v in sorted(sent.items()))
          + f"  (fake saw: {dict(sorted(fake.counts.items()))})")
    print(f"archive requests per resolved citation: {total / max(resolved, 1):.2f} "
          f"({total} requests, {resolved} citations resolved)")
    print(f"lookup requests per distinct URL: {sent.get('lookup', 0) / count:.2f}")
    print(f"projected time at the default limits ({DEFAULT_LOOKUP_PER_MIN} lookups/min, "
          f"{DEFAULT_REPLAY_PER_MIN} replays/min): {clock() / 60:.1f} min "
          f"(requests / rate: {by_counts_min:.1f} min; a window's first requests go at once)")
    print(f"wall time here: {elapsed:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--urls", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(run(args.urls, args.seed))


if __name__ == "__main__":
    main()
