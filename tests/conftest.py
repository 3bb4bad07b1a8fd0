"""Shared fixtures: loopback servers (HTTP and HTTPS with a trustme CA), a clean environment,
a fake clock, and the asyncio backend for `@pytest.mark.anyio` tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
import trustme
from click.testing import CliRunner, Result

from archive import VirtualClock
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from checker.run import eventloop
from tests.corpus import require_corpus
from tests.fake_wayback import FakeWayback, serve_wayback
from tests.servers import LocalServer, serve, standard_routes, tls_server_context

# Variables that would route or verify our requests differently on a developer's machine.
_NETWORK_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA variable of the developer's environment reaches a test (as in httpx)."""
    for name in _NETWORK_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """The shared corpus report: skipped when missing, failed under CI (tests/corpus.py).
    Session-scoped so that it is settled before any module fixture that parses the corpus."""
    return require_corpus()


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    """Our code is asyncio-only (anyio's default fixture would also run every test on trio), on
    the event loop the commands run on (checker.run.eventloop: uvloop where it is installed)."""
    factory = eventloop.loop_factory()
    return ("asyncio", {} if factory is None else {"loop_factory": factory})


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it; every sleep is recorded.

    Pass `clock=fake_clock, sleep=fake_clock.sleep` to code that takes both, so that waits for
    politeness or backoff take no real time.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def web() -> Iterator[LocalServer]:
    """A plain HTTP server on 127.0.0.1 with `tests.servers.standard_routes()`."""
    with serve(standard_routes()) as server:
        yield server


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throwaway certificate authority; `ca_file` is its certificate as a PEM file."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def secure_web(tls_ca: trustme.CA) -> Iterator[LocalServer]:
    """The standard routes over HTTPS, with a certificate for localhost and 127.0.0.1."""
    with serve(standard_routes(), tls=tls_server_context(tls_ca)) as server:
        yield server


@pytest.fixture
def clock() -> VirtualClock:
    """Virtual time for the archive: paces, 429 pauses and polls take none (archive.ratelimit)."""
    return VirtualClock()


@pytest.fixture
def fake(clock: VirtualClock) -> Iterator[FakeWayback]:
    """The local Wayback Machine, refusing like archive.org's front end (3 requests at once, 5
    a second), on the archive's clock so that it sees the gaps the client made."""
    with serve_wayback(clock=clock) as wayback:
        yield wayback


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``run("check", "--confirm", "1")``: the citewatch command line in a fresh folder (its
    database ``citewatch.db`` there), exceptions not caught, so a traceback fails the test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(get_cli(), list(args), catch_exceptions=False)


@pytest.fixture
def wayback_env(fake: FakeWayback, monkeypatch: pytest.MonkeyPatch) -> FakeWayback:
    """``fake``, named to citewatch by ``CITEWATCH_WAYBACK_URL`` (commands run in the test find it)."""
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", fake.base_url)
    return fake


@pytest.fixture
def paced_cli(clock: VirtualClock) -> click.Group:
    """The command group with the archive paced on the test's virtual clock (``fake``'s): its
    waits move that clock, so no test sleeps through the archive's pace."""
    return get_cli(archive_time=ArchiveTime(clock, clock.sleep))


@pytest.fixture
def run_on_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 clock: VirtualClock) -> Callable[..., Result]:
    """``run``, with the archive paced on the test's virtual clock (the one the ``fake`` Wayback
    reads), so the fake sees the gaps the client makes and no test waits for them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    runner = CliRunner()
    cli = get_cli(archive_time=ArchiveTime(clock, clock.sleep))
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)
