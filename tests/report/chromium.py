"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no websocket).

Chromium reads NUL-terminated JSON commands from fd 3 and writes replies and
events to fd 4. Enough to open a page at a given width, evaluate JavaScript,
collect console errors and take screenshots in tests.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """Headless Chromium driven through CDP over pipes."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        r3, w3 = os.pipe()
        r4, w4 = os.pipe()
        # high copies, so that placing them on fds 3 and 4 in the child cannot clobber each other
        r3h, w4h = fcntl.fcntl(r3, fcntl.F_DUPFD, 100), fcntl.fcntl(w4, fcntl.F_DUPFD, 100)

        def child() -> None:
            os.dup2(r3h, 3)
            os.dup2(w4h, 4)

        self.proc = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            preexec_fn=child,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in (r3, w4, r3h, w4h):
            os.close(fd)
        self.out, self.inp = w3, r4
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.width, self.height = width, height
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def _read(self, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.inp], [], [], left)[0]:
                msg = "no answer from chromium"
                raise TimeoutError(msg)
            chunk = os.read(self.inp, 1 << 20)
            if not chunk:
                msg = "chromium closed the pipe"
                raise RuntimeError(msg)
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\0")
        return json.loads(raw)

    def call(
        self, method: str, params: dict | None = None, *, session: bool = False, timeout: float = 60
    ) -> dict[str, Any]:
        """Send one command and return its result (events meanwhile are kept)."""
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, name: str, timeout: float = 120) -> dict[str, Any]:
        for ev in self.events:
            if ev.get("method") == name:
                self.events.remove(ev)
                return ev
        end = time.monotonic() + timeout
        while True:
            ev = self._read(max(0.1, end - time.monotonic()))
            if ev.get("method") == name:
                return ev
            self.events.append(ev)

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        res = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(str(res["exceptionDetails"]))
        return res["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (failed loads) so far."""
        out = []
        for ev in self.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif m == "Runtime.exceptionThrown":
                out.append(str(p["exceptionDetails"].get("text")))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"{p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def screenshot(self, path: Path, *, full_height: int | None = None) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_height:
            params["captureBeyondViewport"] = True
            clip = {"x": 0, "y": 0, "width": self.width, "height": full_height, "scale": 1}
            params["clip"] = clip
        data = self.call("Page.captureScreenshot", params, session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            self.proc.kill()
        finally:
            os.close(self.out)
            os.close(self.inp)
            self.proc.wait(timeout=30)
