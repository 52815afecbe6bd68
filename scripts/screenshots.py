"""Screenshots of the demo for the README: starts `benchfleet demo`, logs in, saves each page.

.venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboards.served import chromium  # noqa: E402
from tests.services import free_port  # noqa: E402

PAGES = {
    "fleet.png": "/fleet",
    "bench.png": "/benches/mostar-01",
    "participation.png": "/participation",
    "config.png": "/config",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--warmup", type=float, default=40.0, help="Seconds of demo before the pictures.")
    args = parser.parse_args()
    port = free_port()
    data = tempfile.mkdtemp(prefix="benchfleet-shots-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "demo", "--http", f"127.0.0.1:{port}", "--data-dir", data],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "BENCHFLEET_LOG_LEVEL": "WARNING"},
        text=True,
    )
    password = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.search(r"login admin / (\S+)\)", line):
            password = m.group(1)
            break
    if password is None:
        raise SystemExit("the demo did not print its login")
    time.sleep(args.warmup)  # a script, not a test: let the simulated benches vote and report
    base = f"http://127.0.0.1:{port}"
    try:
        with chromium() as browser:
            page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=name]", "admin")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/fleet")
            for name, path in PAGES.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(args.out / name), full_page=True)
                print("saved", args.out / name)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    main()
