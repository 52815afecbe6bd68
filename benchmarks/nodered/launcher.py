"""Install and start the Node-RED flow the ingestion benchmark races against (headless, temp user folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
RED_JS = HERE / "node_modules" / "node-red" / "red.js"


def ensure_installed() -> None:
    """``npm ci`` from the committed lock file when node_modules is missing (the registry is npm)."""
    if RED_JS.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: apt-get install nodejs npm (Node.js >= 18.5) to run the Node-RED flow")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


def start(
    workdir: Path, *, mqtt_port: int, influx_port: int, database: str, client_id: str, topic: str, http_port: int
) -> subprocess.Popen[bytes]:
    """Start Node-RED with ``flow.json`` preloaded into a fresh user folder; the caller stops the process."""
    ensure_installed()
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "flow.json", workdir / "flow.json")
    env = {
        **os.environ,
        "NR_MQTT_PORT": str(mqtt_port),
        "NR_INFLUX_PORT": str(influx_port),
        "NR_INFLUX_DB": database,
        "NR_CLIENT_ID": client_id,
        "NR_TOPIC": topic,
        "NR_HTTP_PORT": str(http_port),
    }
    argv = ["node", str(RED_JS), "--settings", str(HERE / "settings.js"), "--userDir", str(workdir)]
    log = (workdir / "node-red.log").open("ab")
    try:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()
