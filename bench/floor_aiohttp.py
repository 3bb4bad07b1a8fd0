"""
The floor under citewatch's checker: the same requests through bare aiohttp, nothing else.

    python bench/floor_aiohttp.py URLS_FILE PER_HOST

One process, one `aiohttp.ClientSession`, a semaphore of PER_HOST per host, every URL fetched
with GET, its body read, and redirects followed by hand (as citewatch does); no politeness
interval, no retries, no page analysis, no database. `bench_check.py --floor` runs it beside
citewatch to show what part of citewatch's time is the HTTP client itself. Prints the number
of final answers by status class.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter, defaultdict
from urllib.parse import urljoin, urlsplit

import aiohttp

MAX_REDIRECTS = 10


async def check_all(urls: list[str], per_host: int) -> Counter[str]:
    limits: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
    statuses: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=per_host)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def check(url: str) -> None:
            current = url
            for _ in range(MAX_REDIRECTS + 1):
                async with limits[urlsplit(current).hostname or ""]:
                    async with session.get(current, allow_redirects=False) as response:
                        await response.read()
                        location = response.headers.get("location")
                        status = response.status
                if status in (301, 302, 303, 307, 308) and location:
                    current = urljoin(current, location)
                    continue
                break
            statuses[f"{status // 100}xx"] += 1

        by_host: defaultdict[str, list[str]] = defaultdict(list)
        for url in urls:
            by_host[urlsplit(url).hostname or ""].append(url)

        async def lane(queue: list[str]) -> None:
            while queue:
                await check(queue.pop())

        await asyncio.gather(*(lane(q) for q in by_host.values() for _ in range(per_host)))
    return statuses


def main() -> None:
    urls_file, per_host = sys.argv[1], int(sys.argv[2])
    with open(urls_file) as f:
        urls = [line.strip() for line in f if line.strip()]
    statuses = asyncio.run(check_all(urls, per_host))
    print(", ".join(f"{n} {kind}" for kind, n in sorted(statuses.items())))


if __name__ == "__main__":
    main()
