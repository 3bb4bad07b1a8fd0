"""Defaults shared by the library and the command line (help text and behaviour agree)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

DEFAULT_CONCURRENCY = 64
DEFAULT_PER_HOST_CONCURRENCY = 2
DEFAULT_HOST_INTERVAL_S = 0.5
DEFAULT_TIMEOUT_S = 15.0          # read: the longest silence from a server (check --timeout)
DEFAULT_CONNECT_TIMEOUT_S = 10.0  # DNS, TCP and TLS; the command line uses min(--timeout, this)
DEFAULT_TOTAL_TIMEOUT_S = 60.0    # whole check of one URL, retries included
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF_BASE_S = 1.0
DEFAULT_MAX_RETRY_AFTER_S = 60.0
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_MAX_BODY_BYTES = 512_000  # enough for <title>, headings and soft-404 heuristics
DEFAULT_USER_AGENT = "citewatch/0.1 (+https://github.com/citewatch/citewatch; citation link checker)"
DEFAULT_MAX_AGE_S = 24 * 3600.0
DEFAULT_CONFIRM_COUNT = 3         # InternetArchiveBot: three failing checks …
DEFAULT_CONFIRM_SPACING_S = 3 * 24 * 3600.0  # … at least three days apart
# A check that repeats its link's latest (same verdict, status and final URL) extends that row;
# ``citewatch prune`` folds rows written one per check (before m007) once they are this old.
DEFAULT_HISTORY_KEEP_S = 30 * 24 * 3600.0
# A name that exists, asked when a run's NXDOMAIN answers need a witness (checker.run.checking): the
# archive's host, which a run that archives must reach anyway.
DEFAULT_DNS_CANARY = "web.archive.org"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSettings:
    concurrency: int = DEFAULT_CONCURRENCY
    per_host: int = DEFAULT_PER_HOST_CONCURRENCY
    host_interval_s: float = DEFAULT_HOST_INTERVAL_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    user_agent: str = DEFAULT_USER_AGENT
    host_headers: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> extra headers
    host_limits: dict[str, int] = field(default_factory=dict)  # host -> its own per-host limit
    allow_private: bool = True        # loopback and private ranges; link-local/metadata never
    accepted_status: frozenset[int] = frozenset()  # extra codes that count as alive
    exclude: tuple[str, ...] = ()     # regexes; matching URLs get the verdict "skipped"
    # How names are looked up, `(host, port) -> addresses` (checker.net.client.Lookup); None is
    # the system's resolver. Injected by tests (fake DNS answers) and by embedders; with worker
    # processes it must be picklable (a module-level function).
    resolver: Callable[[str, int], Awaitable[list[str]]] | None = None
    dns_canary: str = DEFAULT_DNS_CANARY  # "" asks no canary: only the run's own names witness
    # Keep the main text of live HTML pages (checker.judge.maintext, while the body is read) for
    # comparison with their archive captures: ``check --drift``.
    main_text: bool = False
    # Worker processes that share the hosts of a run (checker.run.parallel): None lets the run's
    # size and the cores decide, 0 or 1 checks in this process, N > 1 forks N workers.
    processes: int | None = None

    def per_host_for(self, host: str) -> int:
        """The in-flight limit of one host: its own from configuration, else ``per_host``."""
        return self.host_limits.get(host, self.per_host)
