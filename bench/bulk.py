"""A bulk task running beside the API load (``bench/run.py --bulk-task RATE``).

Logs in to the console as the demo tenant, uploads a list long enough to outlast the load,
confirms it, and after the load reads how many numbers it fed and cancels the rest, so the run
can wait for the API's messages alone. The task's numbers (``1371 2xxxxxx``) never meet the
load generator's (``139...``) nor the simulator's magic suffixes.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FED = re.compile(r'id="n-fed" data-value="(\d+)"')


def _token(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


class BulkTask:
    """One console bulk task of the demo tenant."""

    def __init__(self, port: int, creds: dict[str, Any]) -> None:
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        self.creds = creds
        self.path = ""

    def start(self, rate: int, numbers: int) -> None:
        """Upload ``numbers`` rows for the demo notice template and confirm at ``rate``."""
        page = self.client.get("/console/login").text
        login = {
            "email": self.creds["tenant"]["email"],
            "password": self.creds["tenant"]["password"],
        }
        r = self.client.post("/console/login", data=login | {"csrf_token": _token(page)})
        if r.status_code != 303:
            raise RuntimeError(f"console log-in failed: {r.status_code}")
        rows = ["手机号,姓名,订单号"]
        rows += [f"1371{2_000_000 + i:07d},客户{i},NO{i}" for i in range(numbers)]
        form = {
            "csrf_token": _token(self.client.get("/console/tasks").text),
            "app": self.creds["sdk_app_id"],
            "sign": self.creds["sign_name"],
            "template": self.creds["notice_template_id"],
            "rate": str(rate),
        }
        files = {"file": ("bench.csv", "\n".join(rows).encode())}
        r = self.client.post("/console/tasks", data=form, files=files)
        if r.status_code != 303:
            raise RuntimeError(f"bulk upload failed: {r.status_code} {r.text[:300]}")
        self.path = r.headers["location"]
        page = self.client.get(self.path).text
        r = self.client.post(f"{self.path}/confirm", data={"csrf_token": _token(page)})
        if r.status_code != 303:
            raise RuntimeError(f"bulk confirm failed: {r.status_code}")

    def fed(self) -> int:
        """Numbers the task has handed to ACCEPT so far."""
        found = FED.search(self.client.get(f"{self.path}/progress").text)
        return int(found.group(1)) if found else 0

    def stop(self) -> int:
        """Cancel the task; returns how many numbers it had fed."""
        fed = self.fed()
        page = self.client.get(self.path).text
        self.client.post(f"{self.path}/cancel", data={"csrf_token": _token(page)})
        self.client.close()
        return fed
