"""Configuration files: ``citewatch.toml`` or ``[tool.citewatch]`` in ``pyproject.toml``.

The first of these found in the current folder is used (``--config FILE`` names one explicitly).
Precedence: command line > environment (``CITEWATCH_DB``) > configuration file > built-in defaults.
Every key is checked: an unknown key or a value of the wrong type is a ``ConfigError`` that names it.

Keys (all optional)::

    db = "citewatch.db"
    exclude = ["^https?://localhost"]     # URL regexes that are never fetched (verdict "skipped")
    accepted_status = [999]               # extra status codes that count as alive
    concurrency = 64                      # requests in flight overall
    per_host = 2                          # requests in flight per host
    host_interval = 0.5                   # seconds between request starts on one host
    timeout = 15.0                        # read timeout, seconds (connect: the same, at most 10)
    retries = 2
    max_redirects = 10
    user_agent = "citewatch/0.1 (...)"
    dns_canary = "web.archive.org"        # witness that the resolver works ("" for none)
    processes = 1                         # worker processes (0 or 1: none; default: automatic)
    drift = false                         # check/archive --drift: measure content drift
    max_age = "24h"                       # re-check links older than this
    confirm = 3                           # failing checks needed to call a link dead …
    confirm_spacing = "3d"                # … at least this far apart
    fail_on = "dead-unarchived"
    cdx_per_minute = 24                   # archive lookups per minute
    save_per_minute = 2                   # Save Page Now captures per minute
    archive_per_host = 2                  # requests at once to each archive host
    pause_on_429 = 60                     # seconds every archive request waits after a 429
    max_429 = 3                           # 429s in a row that stop the archive step
    archive_max_age = "30d"
    archives = "wayback,archive.today"    # archives to look in, in order (wayback always first)
    memento_archive = ["pt=https://arquivo.pt/wayback/timemap/link/"]   # NAME=TIMEMAP[,TIMEGATE]
    memento_aggregator = "http://localhost:1208"   # a MemGator you run, asked last
    memento_timeout = 20                  # seconds per request to an archive other than Wayback
    memento_max_failures = 3              # failures in a row that stop asking that archive

    ignore_file = ".citewatchignore"      # URL regexes, one a line (default: ./.citewatchignore)
    exclude_path = ["drafts/", "*.tmp.md"]   # files and folders never scanned (.gitignore rules)

    [hosts."example.com"]                 # per-host settings
    headers = { Cookie = "session=…" }
    per_host = 1

    [links."https://example.com/members"] # the state of one URL, whatever its checks say
    state = "alive"                       # or "dead" (InternetArchiveBot's permalive/permadead)
    reason = "behind a login; checked by hand"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from checker.errors import ConfigError
from checker.report.overrides import OVERRIDE_STATES, LinkOverride

_INT = (int,)
_NUM = (int, float)
_STR = (str,)
_BOOL = (bool,)

#: key -> accepted python types (lists are checked element-wise)
SCHEMA: dict[str, tuple[type, ...] | str] = {
    "db": _STR,
    "exclude": "list[str]",
    "accepted_status": "list[int]",
    "concurrency": _INT,
    "per_host": _INT,
    "host_interval": _NUM,
    "timeout": _NUM,
    "retries": _INT,
    "max_redirects": _INT,
    "user_agent": _STR,
    "dns_canary": _STR,
    "processes": _INT,
    "drift": _BOOL,
    "max_age": "duration",
    "confirm": _INT,
    "confirm_spacing": "duration",
    "fail_on": _STR,
    "cdx_per_minute": _NUM,
    "save_per_minute": _NUM,
    "archive_per_host": _INT,
    "pause_on_429": _NUM,
    "max_429": _INT,
    "archive_max_age": "duration",
    "archives": _STR,
    "memento_archive": "list[str]",
    "memento_aggregator": _STR,
    "memento_timeout": _NUM,
    "memento_max_failures": _INT,
    "ignore_file": _STR,
    "exclude_path": "list[str]",
}
_HOST_KEYS = {"headers", "per_host"}
_LINK_KEYS = {"state", "reason"}
#: Read from the current folder when the configuration names no other (like .lycheeignore).
IGNORE_FILE = ".citewatchignore"


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    host_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    host_per_host: dict[str, int] = field(default_factory=dict)
    links: dict[str, LinkOverride] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()     # URL regexes of the ignore file


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """``"90"``, ``"30m"``, ``"24h"``, ``"3d"``, ``"1w"`` → seconds. Raises ValueError."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 24h, 3d)")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def find_config(folder: Path) -> Path | None:
    own = folder / "citewatch.toml"
    if own.is_file():
        return own
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return None  # not ours to judge unless it has our table
        if "citewatch" in data.get("tool", {}):
            return pyproject
    return None


def load_config(path: Path | None) -> Config:
    """Read and validate a configuration file (None: no file, defaults only)."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("citewatch", {})
    where = f"{path}" + (" [tool.citewatch]" if path.name == "pyproject.toml" else "")
    values: dict[str, Any] = {}
    host_headers: dict[str, dict[str, str]] = {}
    host_per_host: dict[str, int] = {}
    links: dict[str, LinkOverride] = {}
    for key, value in data.items():
        if key == "links":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: 'links' must be a table of URLs")
            links.update((url, _link(where, url, table)) for url, table in value.items())
            continue
        if key == "hosts":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: 'hosts' must be a table of host names")
            for host, table in value.items():
                _host(where, host, table, host_headers, host_per_host)
            continue
        if key not in SCHEMA:
            known = ", ".join([*sorted(SCHEMA), "hosts", "links"])
            raise ConfigError(f"{where}: unknown key {key!r} (known: {known})")
        values[key] = _check(where, key, value, SCHEMA[key])
        if key == "exclude":  # compiled only while checking: a bad one must stop us here
            for pattern in values[key]:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(f"{where}: 'exclude': not a regular expression: "
                                      f"{pattern!r} ({exc})") from None
    return Config(path=path, values=values, host_headers=host_headers, host_per_host=host_per_host,
                  links=links)


def with_ignore_file(config: Config, folder: Path) -> Config:
    """``config`` with the URL regexes of its ``ignore_file``, or of ``folder/.citewatchignore``
    when it names none and that file exists.

    One regular expression a line, searched in each URL (as ``--exclude``); blank lines and lines
    starting with ``#`` are skipped. A named file that is missing, or a line that is not a
    regular expression, is a ConfigError naming it."""
    named = config.values.get("ignore_file")
    path = Path(named) if named else folder / IGNORE_FILE
    if not named and not path.is_file():
        return config
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the ignore file ({exc})") from None
    patterns = []
    for number, line in enumerate(lines, 1):
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{path}:{number}: not a regular expression: {pattern!r} ({exc})"
                              ) from None
        patterns.append(pattern)
    return replace(config, ignore=tuple(patterns))


def _link(where: str, url: str, table: Any) -> LinkOverride:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: links.{url!r} must be a table")
    unknown = set(table) - _LINK_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key 'links.\"{url}\".{min(unknown)}' (known: reason, state)")
    state = table.get("state")
    if state not in OVERRIDE_STATES:
        raise ConfigError(f"{where}: links.{url!r}: state must be \"alive\" or \"dead\", got {state!r}")
    reason = table.get("reason", "")
    if not isinstance(reason, str):
        raise ConfigError(f"{where}: links.{url!r}: reason must be a string, got {reason!r}")
    return LinkOverride(state=state, reason=reason)


def _host(where: str, host: str, table: Any, headers: dict[str, dict[str, str]],
          per_host: dict[str, int]) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: hosts.{host!r} must be a table")
    for key, value in table.items():
        if key not in _HOST_KEYS:
            raise ConfigError(f"{where}: unknown key 'hosts.{host}.{key}' (known: headers, per_host)")
        if key == "headers":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ConfigError(f"{where}: 'hosts.{host}.headers' must map header names to strings")
            headers[host.lower()] = dict(value)
        else:
            per_host[host.lower()] = _check(where, f"hosts.{host}.per_host", value, _INT)


def _check(where: str, key: str, value: Any, kind: tuple[type, ...] | str) -> Any:
    if kind == "duration":
        try:
            return parse_duration(value) if isinstance(value, str) else float(_num(where, key, value))
        except ValueError as exc:
            raise ConfigError(f"{where}: {key!r}: {exc}") from None
    if isinstance(kind, str):  # list[...]
        inner = int if kind == "list[int]" else str
        if not isinstance(value, list) or not all(
            isinstance(v, inner) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(f"{where}: {key!r} must be a list of {inner.__name__}s, got {value!r}")
        return value
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key!r} must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, kind):
        names = " or ".join(t.__name__ for t in kind)
        raise ConfigError(f"{where}: {key!r} must be {names}, got {value!r}")
    if isinstance(value, int | float) and value < 0:
        raise ConfigError(f"{where}: {key!r} must not be negative, got {value!r}")
    return value


def _num(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a duration like '24h', got {value!r}")
    return float(value)
