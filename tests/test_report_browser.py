"""The HTML report in a real headless browser: it renders, sorts, filters, throws no errors and
loads nothing from the network.

The browser is Debian's ``chromium``, driven over the Chrome DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in NUL on file descriptors 3 and 4), so no
WebDriver, no websocket library and no port are needed. Clicks and typing are real input events
(``Input.dispatchMouseEvent``, ``Input.insertText``), not ``element.click()``.

Without chromium the test is skipped, unless ``CI`` is set: there a missing browser is a failure
(``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.report import render
from checker.report.common import state_rank
from tests.report_sample import sample_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 10.0


def _browser() -> str:
    for name in (os.environ.get("CITEWATCH_CHROMIUM"), *BROWSERS):
        path = name and shutil.which(name)
        if path:
            return path
    message = (
        "chromium is not installed (apt-get install -y chromium); "
        "the HTML report's browser test needs it"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


class Browser:
    """A headless chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:  # runs in the child: chromium reads fd 3 and writes fd 4
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire_fds,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._session: str | None = None
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", url="about:blank", session=False)["targetId"]
        self._session = self.send(
            "Target.attachToTarget", targetId=target, flatten=True, session=False
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_chrome, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))

    def _pump(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("chromium did not answer in time")
        message = self._messages.get(timeout=remaining)
        if "method" in message:
            self.events.append(message)
        return message

    def send(self, method: str, *, session: bool = True, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session and self._session:
            command["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            message = self._pump(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]  # type: ignore[no-any-return]

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        seen = len(self.events)
        while True:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self.events)
            self._pump(deadline)

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def type(self, selector: str, text: str) -> None:
        self.click(selector)
        self.send("Input.insertText", text=text)

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = _browser()
    b = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render(sample_report(), "html"), encoding="utf-8")
    return path.as_uri()


VISIBLE_ROWS = "[...document.querySelectorAll('#rows tbody tr')].filter(r => !r.hidden)"


def _column(browser: Browser, index: int) -> list[str]:
    return browser.js(  # type: ignore[no-any-return]
        f"{VISIBLE_ROWS}.map(r => r.cells[{index}].textContent.trim())"
    )


def _problems(browser: Browser, page: str) -> list[str]:
    """Console errors, uncaught exceptions, dialogs and any request but the page itself."""
    found = []
    for event in browser.events:
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent" and params["request"]["url"] != page:
            found.append(f"request: {params['request']['url']}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails']}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            found.append(f"console.{params['type']}: {params['args']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"log: {params['entry']['text']}")
        elif method == "Page.javascriptDialogOpening":
            found.append(f"dialog: {params['message']}")
    return found


def test_the_report_renders_sorts_and_filters_without_errors_or_requests(
    browser: Browser, page: str
) -> None:
    browser.open(page)
    report = sample_report()
    n = len(report.rows())
    assert browser.js(f"{VISIBLE_ROWS}.length") == n
    assert browser.js("document.getElementById('shown').textContent") == f"{n} of {n} rows"
    assert browser.js("document.querySelectorAll('svg.chart rect').length") > 0

    # sort by line, then reverse
    lines = sorted(c.line for d in report.documents for c in d.citations for _ in c.links)
    browser.click("#rows thead th:nth-child(3)")
    assert [int(x) for x in _column(browser, 2)] == lines
    assert (
        browser.js("document.querySelector('#rows thead th:nth-child(3)').ariaSort") == "ascending"
    )
    browser.click("#rows thead th:nth-child(3)")
    assert [int(x) for x in _column(browser, 2)] == lines[::-1]

    # sort by state: worst first, by severity rather than alphabet
    browser.click("#rows thead th:nth-child(5)")
    states = browser.js(f"{VISIBLE_ROWS}.map(r => r.dataset.state)")
    assert states == sorted(states, key=state_rank)
    assert states[0] == "dead" and states[-1] == "alive"

    # the text filter keeps only matching rows
    browser.type("#filter", "пример")
    assert browser.js(f"{VISIBLE_ROWS}.map(r => r.dataset.state)") == ["moved"]
    assert browser.js("document.getElementById('shown').textContent") == f"1 of {n} rows"
    browser.js(
        "(() => { const f = document.getElementById('filter'); f.value = '';"
        " f.dispatchEvent(new Event('input')); })()"
    )
    assert browser.js(f"{VISIBLE_ROWS}.length") == n

    # a state checkbox hides that state
    browser.click("#states input[value='alive']")
    visible = browser.js(f"{VISIBLE_ROWS}.map(r => r.dataset.state)")
    assert "alive" not in visible and len(visible) == n - 1

    # the untrusted text is shown as text, never run
    assert browser.js("document.scripts.length") == 1
    assert '<script>alert("pwned")</script>' in browser.js("document.body.innerText")
    assert browser.js("document.querySelectorAll('a[href^=\"javascript:\"]').length") == 0

    assert _problems(browser, page) == []
    assert [
        e["params"]["request"]["url"]
        for e in browser.events
        if e["method"] == "Network.requestWillBeSent"
    ] == [page]


def test_the_network_check_sees_a_request_when_a_page_makes_one(
    browser: Browser, tmp_path: Path
) -> None:
    """The control for the test above: the same check does catch a page that loads something."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<!DOCTYPE html><title>x</title><img src="http://127.0.0.1:9/pixel.png">')
    browser.open(leaky.as_uri())
    browser.js("new Promise(r => setTimeout(r, 50))")
    assert any(
        p.startswith("request: http://127.0.0.1:9/") for p in _problems(browser, leaky.as_uri())
    )
