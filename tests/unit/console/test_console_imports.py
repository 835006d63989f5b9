"""What loading the console costs every API process."""

from __future__ import annotations

import subprocess
import sys


def test_the_console_loads_no_spreadsheet_library() -> None:
    # openpyxl (some 18 MiB) is loaded by the first XLSX export or upload, not by every API
    # process that serves the console.
    probe = (
        "import sys, smscloud.console.app;"
        " print(sorted(m for m in ('openpyxl',) if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
