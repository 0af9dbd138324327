"""A minimal headless-Chromium driver for the report tests: the Chrome DevTools Protocol over a pipe.

No Python dependency and no browser download: Debian's `chromium` is started with
`--remote-debugging-pipe` (commands on fd 3, replies and events on fd 4, NUL-terminated JSON),
so nothing listens on a port either. `open_page` loads a file and records everything the tests
check: console messages and exceptions, log errors (CSP violations, failed loads), every request
the page attempted, JavaScript dialogs; then it evaluates DOM checks, takes a screenshot and
prints to PDF.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FLAGS", "Chromium", "PageVisit", "find_chromium"]

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    # belt and braces: even a request the page should never make cannot leave the machine
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    pass


@dataclass
class PageVisit:
    """What happened while a page was open."""

    console: list[dict[str, Any]] = field(default_factory=list)  # {"level", "text"}
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page tried to load
    dialogs: list[str] = field(default_factory=list)
    checks: Any = None  # the value of the DOM-check expression
    screenshot: Path | None = None
    pdf: bytes | None = None

    @property
    def errors(self) -> list[str]:
        return [c["text"] for c in self.console if c["level"] in ("error", "assert")] + self.exceptions

    def external_requests(self, page_url: str) -> list[str]:
        """Requests other than the page itself and inline data (data: URLs are not network)."""
        return [u for u in self.requests if u != page_url and not u.startswith(("data:", "about:"))]


class Chromium:
    """One headless Chromium process driven over the DevTools pipe (use as a context manager)."""

    def __init__(self, executable: str, user_data_dir: Path, timeout: float = 60.0):
        self.timeout = timeout
        user_data_dir.mkdir(parents=True, exist_ok=True)  # Chromium refuses a missing one
        cmd_r, self._cmd_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        # move the child's ends above the low numbers, so that dup2 onto 3 and 4 cannot clobber them
        child_r, child_w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (cmd_r, resp_w))
        os.close(cmd_r)
        os.close(resp_w)

        def pipe_on_3_and_4() -> None:  # in the child, before exec: commands on fd 3, replies on fd 4
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        # close_fds=False: Python opens every descriptor close-on-exec, so only 0-4 reach Chromium
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            preexec_fn=pipe_on_3_and_4,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_r)
        os.close(child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self._write({"id": -1, "method": "Browser.close"})
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self._cmd_w, self._resp_r):
            with contextlib.suppress(OSError):
                os.close(fd)

    # ---- protocol ---------------------------------------------------------------------------------

    def _write(self, msg: dict[str, Any]) -> None:
        os.write(self._cmd_w, json.dumps(msg).encode("utf-8") + b"\0")

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("timed out waiting for Chromium")
            ready, _, _ = select.select([self._resp_r], [], [], left)
            if ready:
                chunk = os.read(self._resp_r, 1 << 20)
                if not chunk:
                    raise CDPError(f"Chromium closed the pipe (exit code {self.proc.poll()})")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and wait for its reply; events that arrive meanwhile go to `self.events`."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._write(msg)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._on_event(reply)

    def _on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event["method"] == "Page.javascriptDialogOpening":  # never leave the page blocked
            self._next_id += 1
            self._write(
                {
                    "id": self._next_id,
                    "method": "Page.handleJavaScriptDialog",
                    "params": {"accept": True},
                    "sessionId": event.get("sessionId"),
                }
            )

    def pump(self, seconds: float) -> None:
        """Collect events for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                msg = self._read_message(deadline)
            except CDPError:
                return
            if "method" in msg:
                self._on_event(msg)

    def wait_for(self, method: str, session: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        for e in self.events:
            if e["method"] == method and e.get("sessionId") == session:
                return e
        while True:
            msg = self._read_message(deadline)
            if "method" in msg:
                self._on_event(msg)
                if msg["method"] == method and msg.get("sessionId") == session:
                    return msg

    # ---- one page -----------------------------------------------------------------------------------

    def open_page(
        self,
        url: str,
        *,
        checks: str | None = None,
        screenshot: Path | None = None,
        pdf: bool = False,
        full_page: bool = False,
        width: int = 1366,
        height: int = 900,
        settle: float = 1.0,
    ) -> PageVisit:
        """Load `url` in a fresh tab at a laptop-sized viewport and record what happened."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        first_event = len(self.events)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", {}, session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        self.pump(settle)  # late events: image errors, timers
        visit = PageVisit()
        if checks:
            res = self.send("Runtime.evaluate", {"expression": checks, "returnByValue": True}, session)
            if "exceptionDetails" in res:
                raise CDPError(f"check failed to run: {res['exceptionDetails']}")
            visit.checks = res["result"].get("value")
        if screenshot is not None:
            params: dict[str, Any] = {"format": "png"}
            if full_page:
                size = self.send("Page.getLayoutMetrics", {}, session)["cssContentSize"]
                clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
                params.update(captureBeyondViewport=True, clip=clip)
            shot = self.send("Page.captureScreenshot", params, session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            visit.screenshot = screenshot
        if pdf:
            visit.pdf = base64.b64decode(
                self.send("Page.printToPDF", {"printBackground": True}, session)["data"]
            )
        self.pump(0.2)
        for e in self.events[first_event:]:
            if e.get("sessionId") != session:
                continue
            p = e.get("params", {})
            m = e["method"]
            if m == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                visit.console.append({"level": p.get("type"), "text": text})
            elif m == "Runtime.exceptionThrown":
                visit.exceptions.append(json.dumps(p.get("exceptionDetails", {}))[:500])
            elif m == "Log.entryAdded":
                entry = p.get("entry", {})
                visit.console.append({"level": entry.get("level"), "text": entry.get("text", "")})
            elif m == "Network.requestWillBeSent":
                visit.requests.append(p.get("request", {}).get("url", ""))
            elif m == "Page.javascriptDialogOpening":
                visit.dialogs.append(p.get("message", ""))
        self.send("Target.closeTarget", {"targetId": target})
        return visit
