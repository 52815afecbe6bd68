"""Over-the-air updates from a real local HTTP server, with keys generated here."""

from __future__ import annotations

import functools
import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from firmware_agent.agent import AgentSettings
from firmware_agent.ota.manifest import sign_release
from firmware_agent.ota.verify import load_public_key
from tests.services import free_port


class Quiet(SimpleHTTPRequestHandler):
    """Serves the artifact folder without logging every request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def artifacts(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1: (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def signing_key(tmp_path: Path):
    """The release key (private, the fleet's) and the bench's copy of its public half."""
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "ota.pub").write_bytes(pem)
    return private, load_public_key(tmp_path / "ota.pub")


def release_tarball(version: str) -> bytes:
    """A release: a start script and a VERSION file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in (("VERSION", version), ("bin/benchfleet", '#!/bin/sh\nexec python -m firmware_agent "$@"\n')):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def ota_args(folder: Path, base: str, version: str, key: Ed25519PrivateKey, *, tamper_hash: bool = False) -> dict:
    """Publish an artifact and return the ota command's args."""
    data = release_tarball(version)
    (folder / f"bench-{version}.tar.gz").write_bytes(data)
    digest = hashlib.sha256(b"other" if tamper_hash else data).hexdigest()
    return {
        "version": version,
        "url": f"{base}/bench-{version}.tar.gz",
        "sha256": digest,
        "signature": sign_release(key, version, "simulated", hashlib.sha256(data).hexdigest()),
    }


def _stages(obs, version: str) -> list[str]:
    return [e["data"]["stage"] for e in obs.events("ota_progress") if e["data"]["version"] == version]


def _factory_release(h) -> None:
    """Install 1.0.0 as a release folder so there is something to roll back to."""
    h.releases.stage("1.0.0", release_tarball("1.0.0"), "bench-1.0.0.tar.gz")
    h.releases.switch("1.0.0")


def test_good_artifact_is_applied_and_confirmed(
    mosquitto, bench_id, clock, tmp_path, harnesses, observers, artifacts, signing_key
):
    folder, base = artifacts
    private, public = signing_key
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, updater_key=public).start()
    _factory_release(h)
    command_id = obs.send_command("ota", ota_args(folder, base, "1.1.0", private))
    result = h.pump_until(lambda: obs.result(command_id), message="ota answered")["data"]
    assert result["ok"] is True
    assert h.agent.restart_requested == "ota"
    h.pump_until(lambda: "switching" in _stages(obs, "1.1.0"))
    assert _stages(obs, "1.1.0") == ["downloading", "verifying", "staged", "switching"]
    assert h.releases.current_version() == "1.1.0"
    assert (tmp_path / "bench" / "current" / "VERSION").read_text() == "1.1.0"
    assert h.releases.trial() is not None
    h.close()

    # The restarted agent is the new version; reaching the broker confirms it.
    new = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, firmware_version=h.releases.current_version())
    new.start()
    new.pump_until(lambda: "done" in _stages(obs, "1.1.0"), message="update confirmed")
    assert new.releases.trial() is None
    firmware = new.pump_until(
        lambda: [r["firmware"] for r in obs.of("reported") if r["firmware"]["version"] == "1.1.0"]
    )
    assert firmware[-1] == {"version": "1.1.0", "previous": "1.0.0"}
    clock.advance(timedelta(hours=1))
    new.host.pump()
    assert new.agent.restart_requested is None
    assert new.releases.current_version() == "1.1.0"
    new.close()
    later = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, firmware_version="1.1.0")
    later.host.start()
    assert later.agent.firmware.model_dump() == {"version": "1.1.0", "previous": "1.0.0"}


@pytest.mark.parametrize("fault", ["hash", "signature"])
def test_bad_artifact_is_refused_and_running_version_stays(
    fault, mosquitto, bench_id, clock, tmp_path, harnesses, observers, artifacts, signing_key
):
    folder, base = artifacts
    private, public = signing_key
    signer = Ed25519PrivateKey.generate() if fault == "signature" else private
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, updater_key=public).start()
    _factory_release(h)
    command_id = obs.send_command("ota", ota_args(folder, base, "6.6.6", signer, tamper_hash=fault == "hash"))
    result = h.pump_until(lambda: obs.result(command_id), message="ota answered")["data"]
    assert result["ok"] is False
    assert ("sha256 mismatch" if fault == "hash" else "signature does not verify") in result["error"]
    h.pump_until(lambda: "rejected" in _stages(obs, "6.6.6"))
    assert _stages(obs, "6.6.6") == ["downloading", "verifying", "rejected"]
    assert h.agent.restart_requested is None
    assert h.releases.current_version() == "1.0.0"
    assert not (tmp_path / "bench" / "releases" / "6.6.6").exists()
    assert h.releases.trial() is None


def test_unreachable_artifact_fails_cleanly(mosquitto, bench_id, clock, tmp_path, harnesses, observers, signing_key):
    _private, public = signing_key
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, updater_key=public).start()
    args = {
        "version": "2.0.0",
        "url": f"http://127.0.0.1:{free_port()}/x.tar.gz",
        "sha256": "0" * 64,
        "signature": "AAAA",
    }
    command_id = obs.send_command("ota", args)
    result = h.pump_until(lambda: obs.result(command_id), message="ota answered")["data"]
    assert result["ok"] is False
    assert "download failed" in result["error"]
    h.pump_until(lambda: "failed" in _stages(obs, "2.0.0"))
    assert h.agent.restart_requested is None


def test_new_version_that_never_connects_is_rolled_back(
    mosquitto, bench_id, clock, tmp_path, harnesses, observers, artifacts, signing_key
):
    folder, base = artifacts
    private, public = signing_key
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, updater_key=public).start()
    _factory_release(h)
    command_id = obs.send_command("ota", ota_args(folder, base, "1.2.0", private))
    h.pump_until(lambda: obs.result(command_id), message="ota answered")
    h.close()

    # Version 1.2.0 starts but cannot reach any broker (say its TLS settings are broken).
    settings = AgentSettings(rollback_timeout_s=120)
    broken = harnesses(
        f"mqtt://127.0.0.1:{free_port()}",
        bench_id,
        tmp_path / "bench",
        clock,
        settings=settings,
        firmware_version="1.2.0",
    )
    broken.start(wait_connected=False)
    clock.advance(timedelta(seconds=60))
    broken.host.pump()
    assert broken.agent.restart_requested is None
    clock.advance(timedelta(seconds=61))
    broken.host.pump()
    assert broken.agent.restart_requested == "rollback"
    assert broken.releases.current_version() == "1.0.0"
    assert broken.releases.trial() is None
    broken.close()

    # Back on 1.0.0, the stored rolled_back event reaches the fleet.
    old = harnesses(mosquitto.url, bench_id, tmp_path / "bench", clock, firmware_version="1.0.0").start()
    old.pump_until(lambda: "rolled_back" in _stages(obs, "1.2.0"), advance=timedelta(seconds=1))
    event = next(e for e in obs.events("ota_progress") if e["data"]["stage"] == "rolled_back")
    assert "no broker connection within 120 s" in event["data"]["error"]
    assert old.agent.restart_requested is None


def test_version_restarting_in_a_loop_is_rolled_back(tmp_path, clock, harnesses, signing_key) -> None:
    h = harnesses(f"mqtt://127.0.0.1:{free_port()}", "loop-bench", tmp_path, clock)
    _factory_release(h)
    h.releases.stage("1.3.0", release_tarball("1.3.0"), "bench-1.3.0.tar.gz")
    h.releases.begin_trial("1.3.0", previous="1.0.0")
    for _ in range(3):
        h.releases.count_start()  # three crashed starts before this one
    h.start(wait_connected=False)
    assert h.agent.restart_requested == "rollback"
    assert h.releases.current_version() == "1.0.0"
