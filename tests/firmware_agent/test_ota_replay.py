"""Replays and substitutions of signed releases, against a real agent, real Mosquitto and a real HTTP server: the
signature covers version, bench model and bytes, and a downgrade needs an explicit rollback."""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from firmware_agent.ota.manifest import check_upgrade, release_message, sign_release
from firmware_agent.ota.verify import OtaRejected, load_public_key
from tests.firmware_agent.test_agent_ota import release_tarball

MODEL = "simulated"  # what SimulatedHardware reports as the bench model


class Counting(SimpleHTTPRequestHandler):
    """Serves the artifact folder and counts downloads."""

    fetched: list[str]

    def do_GET(self) -> None:
        self.fetched.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def www(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    """A folder served over HTTP on 127.0.0.1: (folder, base URL, paths fetched)."""
    folder = tmp_path / "www"
    folder.mkdir()
    fetched: list[str] = []
    handler = type("Handler", (Counting,), {"fetched": fetched})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}", fetched
    server.shutdown()
    thread.join(timeout=5)


def _publish(folder: Path, base: str, version: str, key: Ed25519PrivateKey, model: str = MODEL) -> dict[str, Any]:
    """A release as the fleet publishes it: artifact served, args signed for ``version`` and ``model``."""
    data = release_tarball(version)
    (folder / f"bench-{version}.tar.gz").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return {
        "version": version,
        "url": f"{base}/bench-{version}.tar.gz",
        "sha256": digest,
        "signature": sign_release(key, version, model, digest),
    }


def _run(h: Any, obs: Any, args: dict[str, Any]) -> dict[str, Any]:
    command_id = obs.send_command("ota", args)
    result: dict[str, Any] = h.pump_until(lambda: obs.result(command_id), message="ota answered")["data"]
    return result


@pytest.fixture
def bench(mosquitto, bench_id, clock, tmp_path, harnesses, observers) -> tuple[Any, Any, Ed25519PrivateKey]:
    """An agent running 1.1.0 (installed as a release folder), its observer and the fleet's release key."""
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "ota.pub").write_bytes(pem)
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(
        mosquitto.url,
        bench_id,
        tmp_path / "bench",
        clock,
        firmware_version="1.1.0",
        updater_key=load_public_key(tmp_path / "ota.pub"),
    ).start()
    h.releases.stage("1.1.0", release_tarball("1.1.0"), "bench-1.1.0.tar.gz")
    h.releases.switch("1.1.0")
    return h, obs, private


def test_replayed_older_signed_release_is_refused(bench, www) -> None:
    h, obs, key = bench
    folder, base, fetched = www
    old = _publish(folder, base, "1.0.0", key)  # genuinely signed, once the current release
    result = _run(h, obs, old)
    assert result["ok"] is False
    assert result["error"] == "version 1.0.0 is older than the running 1.1.0: a downgrade needs rollback=true"
    assert h.releases.current_version() == "1.1.0"
    assert h.agent.restart_requested is None
    assert fetched == []  # refused before anything was downloaded
    stages = [e["data"] for e in obs.events("ota_progress") if e["data"]["version"] == "1.0.0"]
    assert stages[-1]["stage"] == "rejected"
    # The same running version is refused too (a replay of the current release).
    same = _run(h, obs, _publish(folder, base, "1.1.0", key))
    assert same["error"] == "version 1.1.0 is already running"


def test_explicit_rollback_may_install_the_older_release(bench, www) -> None:
    h, obs, key = bench
    folder, base, _fetched = www
    result = _run(h, obs, {**_publish(folder, base, "1.0.0", key), "rollback": True})
    assert result["ok"] is True, result
    assert h.releases.current_version() == "1.0.0"
    assert h.agent.restart_requested == "ota"


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ("other_model", "signed for another bench model"),
        ("relabelled", "a signed 1.2.0 announced as 9.0.0"),
        ("bytes_only", "an old-style signature over the bytes alone"),
    ],
)
def test_signature_binds_version_model_and_bytes(bench, www, tamper: str, why: str) -> None:
    h, obs, key = bench
    folder, base, _fetched = www
    args = _publish(folder, base, "1.2.0", key, model="victron-mk2" if tamper == "other_model" else MODEL)
    if tamper == "relabelled":
        args = {**args, "version": "9.0.0"}
    if tamper == "bytes_only":
        data = (folder / "bench-1.2.0.tar.gz").read_bytes()
        args = {**args, "signature": base64.b64encode(key.sign(data)).decode()}
    result = _run(h, obs, args)
    assert result["ok"] is False, why
    assert "signature does not verify" in result["error"], why
    assert h.releases.current_version() == "1.1.0", why
    # The untampered release for this model installs, so the refusal above was the tampering's doing.
    good = _run(h, obs, _publish(folder, base, "1.2.0", key))
    assert good["ok"] is True
    assert h.releases.current_version() == "1.2.0"


def test_release_message_and_version_order() -> None:
    msg = release_message("1.2.0", "sb-2023", "AB" * 32)
    assert msg == b"benchfleet-ota-v2\nversion=1.2.0\nmodel=sb-2023\nsha256=" + b"ab" * 32 + b"\n"
    with pytest.raises(ValueError, match="model"):
        release_message("1.2.0", "a\nsha256=00", "ab" * 32)
    check_upgrade("1.10.0", "1.9.0", rollback=False)  # numeric, not string, order
    with pytest.raises(OtaRejected, match="older"):
        check_upgrade("1.9.0", "1.10.0", rollback=False)
    check_upgrade("1.9.0", "1.10.0", rollback=True)
    with pytest.raises(OtaRejected, match="cannot compare"):
        check_upgrade("nightly", "1.0.0", rollback=False)
