"""
The event loop every command runs on: uvloop where it is installed, else asyncio's own.

Why: the event loop's own Python (selector polling, socket transports, callbacks) was the largest
share of a check's CPU left; uvloop does the same in C (libuv). Measured on bench/bench_check.py's
requests alone, one process, with the HTTP/1.1 client citewatch had before aiohttp (issue 13):
1.15 s of CPU on asyncio's loop, 0.69 s on uvloop; aiohttp runs on either. uvloop is a
dependency where it builds (not on Windows or PyPy); `CITEWATCH_EVENT_LOOP=asyncio` runs on
asyncio's loop anyway, to rule the loop out when chasing a problem.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None for asyncio's default loop."""
    if os.environ.get("CITEWATCH_EVENT_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """`asyncio.run(main)` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
