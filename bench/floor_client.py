"""
The floor under citewatch's checker: the same requests through a bare client on the same parser
(httptools) and event loop (uvloop, where installed), nothing else.

    python bench/floor_client.py URLS_FILE PER_HOST

One process, one asyncio protocol per connection, at most PER_HOST connections and requests per
host, every URL fetched with GET, its body read, and redirects followed by hand (as citewatch
does); no politeness interval, retries, timeouts, TLS, page analysis or database, and HTTP only.
`bench_check.py --floor` runs it beside citewatch to show what part of citewatch's time is the
HTTP exchange itself. Prints the number of final answers by status class.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter, defaultdict
from urllib.parse import urljoin, urlsplit

import httptools

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from checker.run import eventloop  # noqa: E402 - the loop citewatch runs on

MAX_REDIRECTS = 10
REDIRECTS = (301, 302, 303, 307, 308)


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] | None = None
        self.closed = False
        self.location: bytes | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("closed"))

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"location":
            self.location = value

    def on_message_complete(self) -> None:
        assert self.done is not None
        self.done.set_result(None)

    async def get(self, head: bytes) -> tuple[int, str | None]:
        self.location = None
        self.done = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(head)
        await self.done
        location = None if self.location is None else self.location.decode("latin-1")
        return self.parser.get_status_code(), location


async def check_all(urls: list[str], per_host: int) -> Counter[str]:
    loop = asyncio.get_running_loop()
    idle: defaultdict[tuple[str, int], list[Connection]] = defaultdict(list)
    limits: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
    statuses: Counter[str] = Counter()

    async def fetch(url: str) -> tuple[int, str | None]:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 80
        async with limits[host]:
            pool = idle[(host, port)]
            while pool and pool[-1].closed:
                pool.pop()
            if pool:
                connection = pool.pop()
            else:
                _, connection = await loop.create_connection(Connection, host, port)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            head = f"GET {target or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
            answer = await connection.get(head)
            if connection.parser.should_keep_alive():
                pool.append(connection)
            elif connection.transport is not None:
                connection.transport.close()
            return answer

    async def check(url: str) -> None:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            status, location = await fetch(current)
            if status in REDIRECTS and location:
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
    for pool in idle.values():
        for connection in pool:
            if connection.transport is not None:
                connection.transport.close()
    return statuses


def main() -> None:
    urls_file, per_host = sys.argv[1], int(sys.argv[2])
    with open(urls_file) as f:
        urls = [line.strip() for line in f if line.strip()]
    statuses = eventloop.run(check_all(urls, per_host))
    print(", ".join(f"{n} {kind}" for kind, n in sorted(statuses.items())))


if __name__ == "__main__":
    main()
