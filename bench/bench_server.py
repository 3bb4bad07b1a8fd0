"""
A fast loopback web of many hosts for the checker benchmark (bench/bench_check.py).

    python bench/bench_server.py [--hosts 100] [--latency-ms 50] [--port 0]

Each host is its own loopback address, 127.0.1.1 … 127.0.1.<hosts> (Linux routes all of
127.0.0.0/8 to `lo`), all on one port. Every request is answered after `--latency-ms` (a timer
on the event loop, never a blocking sleep), over HTTP/1.1 keep-alive:

* `/ok/<n>`      200, a small HTML page titled "Annual report number <n> on topic <n % 97>"
                 (plus an <h1> and some paragraphs: the page analysis runs on a real body);
* `/moved/<n>`   301 to `/ok/<n>`;
* `/gone/<n>`    404 with an HTML "not found" page;
* anything else  404 (so the checker's soft-404 probe of a random path finds an honest host).

The server counts, per address, the connections open at once and the requests being answered
at once (and their maxima), the connections opened, the requests of each kind, and its own CPU
time.

It runs as its own process so that its CPU time never mixes with the measured client's, and is
driven by lines on stdin: it prints one JSON line `{"port": P, "hosts": [...]}` when every
address listens, then answers `stats` with one JSON line of counters, `reset` by zeroing them
(`ok` back), and ends at `quit` or end of input.

It is written on `asyncio.Protocol` with call_later timers rather than streams and tasks: about
a third of the CPU per request, which matters on a two-core machine where the server shares the
cores with the checker under test. Requests are parsed just enough for GET (no bodies); a
pipelined request waits for the one before it, as HTTP/1.1 requires.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import resource
import socket
import sys
import threading
from typing import Any

ADDRESS_PREFIX = "127.0.1."
MAX_HOSTS = 254

_PARAGRAPH = (
    "<p>The ministry published its yearly figures on network policy, data protection and the "
    "market for software and hardware, with sections on regulation and security.</p>\n"
)


def address(index: int) -> str:
    """The loopback address of host number `index` (0-based)."""
    return f"{ADDRESS_PREFIX}{index + 1}"


def page_title(n: int) -> str:
    """The <title> of /ok/<n>, which the benchmark also cites (so the page is not 'drifted')."""
    return f"Annual report number {n} on topic {n % 97}"


class Site:
    """Counters for one address."""

    __slots__ = ("address", "connections", "max_connections", "opened", "active", "max_active",
                 "requests", "ok", "moved", "gone", "other")

    def __init__(self, addr: str) -> None:
        self.address = addr
        self.connections = 0
        self.reset()

    def reset(self) -> None:
        self.max_connections = self.connections
        self.opened = 0
        self.active = 0
        self.max_active = 0
        self.requests = self.ok = self.moved = self.gone = self.other = 0

    def stats(self) -> dict[str, int | str]:
        return {name: getattr(self, name) for name in self.__slots__}


class Responder:
    """Builds the answer bytes for a path (shared by all connections)."""

    def __init__(self, paragraphs: int) -> None:
        self._body_tail = _PARAGRAPH * paragraphs + "</main></body></html>\n"

    def answer(self, site: Site, path: str) -> tuple[bytes, bytes]:
        """(status line and headers without the Connection header and blank line, body)."""
        kind, _, number = path[1:].partition("/")
        if number.isdigit():
            n = int(number)
            if kind == "ok":
                site.ok += 1
                title = page_title(n)
                body = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}"
                        f"</title></head><body><main><h1>{title}</h1>\n{self._body_tail}")
                return _response(200, "OK", body, ("Content-Type: text/html; charset=utf-8",))
            if kind == "moved":
                site.moved += 1
                return _response(301, "Moved Permanently", "", (f"Location: /ok/{n}",))
            if kind == "gone":
                site.gone += 1
                return _response(404, "Not Found", _NOT_FOUND, _HTML)
        site.other += 1
        return _response(404, "Not Found", _NOT_FOUND, _HTML)


_CLOSE = b"Connection: close\r\n\r\n"
_KEEP_ALIVE = b"Connection: keep-alive\r\n\r\n"
_HTML = ("Content-Type: text/html; charset=utf-8",)
_NOT_FOUND = ("<!doctype html><html><head><title>404 Not Found</title></head>"
              "<body><h1>Not Found</h1><p>The requested URL was not found.</p></body></html>\n")


def _response(status: int, reason: str, body: str, headers: tuple[str, ...]) -> tuple[bytes, bytes]:
    data = body.encode()
    head = "\r\n".join((f"HTTP/1.1 {status} {reason}", "Server: citewatch-bench",
                        f"Content-Length: {len(data)}", *headers, ""))
    return head.encode(), data


class Connection(asyncio.Protocol):
    """One client connection: answers its requests in order, each after the latency."""

    def __init__(self, site: Site, responder: Responder, latency_s: float) -> None:
        self.site = site
        self.responder = responder
        self.latency_s = latency_s
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.queue: list[tuple[str, bool]] = []  # (path, close after answering)
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        site = self.site
        site.connections += 1
        site.opened += 1
        if site.connections > site.max_connections:
            site.max_connections = site.connections

    def connection_lost(self, exc: Exception | None) -> None:
        self.site.connections -= 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.site.active -= 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self._close()
                return
            head = self.buffer[:end].decode("latin-1")
            self.buffer = self.buffer[end + 4:]
            request_line, _, headers = head.partition("\r\n")
            parts = request_line.split(" ")
            if len(parts) != 3:
                self._close()
                return
            target = parts[1]
            if target.startswith("http"):  # absolute form
                target = "/" + target.split("/", 3)[-1] if target.count("/") >= 3 else "/"
            path = target.split("?", 1)[0]
            lowered = headers.lower()
            close = "connection: close" in lowered or parts[2] == "HTTP/1.0"
            self.queue.append((path, close))
            if self.timer is None and len(self.queue) == 1:
                self._start()

    def _start(self) -> None:
        site = self.site
        site.active += 1
        site.requests += 1
        if site.active > site.max_active:
            site.max_active = site.active
        self.timer = asyncio.get_running_loop().call_later(self.latency_s, self._answer)

    def _answer(self) -> None:
        self.timer = None
        self.site.active -= 1
        path, close = self.queue.pop(0)
        transport = self.transport
        if transport is None:
            return
        head, body = self.responder.answer(self.site, path)
        transport.write(b"".join((head, _CLOSE if close else _KEEP_ALIVE, body)))
        if close:
            self._close()
        elif self.queue:
            self._start()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Web:
    """All the sites of one server process."""

    def __init__(self, hosts: int, latency_s: float, paragraphs: int) -> None:
        if not 1 <= hosts <= MAX_HOSTS:
            raise ValueError(f"hosts must be 1..{MAX_HOSTS}")
        self.sites = [Site(address(i)) for i in range(hosts)]
        self.responder = Responder(paragraphs)
        self.latency_s = latency_s
        self.servers: list[asyncio.Server] = []

    async def start(self, port: int) -> int:
        """Listen on every address, all on one port (`port`, or a free one when 0)."""
        for attempt in range(20):
            try:
                return await self._listen(port)
            except OSError:
                for server in self.servers:
                    server.close()
                self.servers.clear()
                if port != 0 and attempt == 0:
                    raise
        raise OSError("no port free on every address")

    async def _listen(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        for site in self.sites:
            server = await loop.create_server(
                functools.partial(Connection, site, self.responder, self.latency_s),
                host=site.address, port=port, backlog=4096, reuse_address=True,
            )
            if port == 0:
                port = server.sockets[0].getsockname()[1]
            self.servers.append(server)
        return port

    def stats(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "sites": [site.stats() for site in self.sites],
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "max_rss_kb": usage.ru_maxrss,
        }

    def reset(self) -> None:
        for site in self.sites:
            site.reset()


async def serve(hosts: int, latency_s: float, port: int, paragraphs: int) -> None:
    web = Web(hosts, latency_s, paragraphs)
    port = await web.start(port)
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def command(line: str) -> None:
        line = line.strip()
        if line == "stats":
            _emit(web.stats())
        elif line == "reset":
            web.reset()
            _emit({"ok": True})
        elif line in ("quit", ""):
            if not done.done():
                done.set_result(None)

    def read_stdin() -> None:  # a thread: the loop never blocks on stdin
        for line in sys.stdin:
            loop.call_soon_threadsafe(command, line)
            if line.strip() == "quit":
                return
        loop.call_soon_threadsafe(command, "")

    threading.Thread(target=read_stdin, daemon=True).start()
    _emit({"port": port, "hosts": [site.address for site in web.sites]})
    await done
    for server in web.servers:
        server.close()


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--paragraphs", type=int, default=20,
                        help="paragraphs of text in each 200 page (about 170 bytes each)")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.hosts, args.latency_ms / 1000, args.port, args.paragraphs))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
