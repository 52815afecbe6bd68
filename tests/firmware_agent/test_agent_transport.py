"""The paho transport against Mosquitto with TLS and per-bench passwords; broker URLs; backoff."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import queue
import random
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firmware_agent.transport.backoff import Backoff
from firmware_agent.transport.base import Connected, TransportEvent
from firmware_agent.transport.paho import PahoTransport
from tests.services import MosquittoService, which
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url
from twins.clock import SystemClock


def _cert(subject: str, issuer_key, issuer_name, key, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class SecureMosquitto(MosquittoService):
    """Mosquitto with a TLS listener and a password file (as in production)."""

    name = "mosquitto-tls"

    def _write_config(self) -> list[str]:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
        ca = _cert("Test CA", ca_key, ca_name, ca_key, ca=True)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert("127.0.0.1", ca_key, ca_name, key, ca=False)
        (self.workdir / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (self.workdir / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (self.workdir / "server.key").write_bytes(_pem_key(key))
        passwd = self.workdir / "passwd"
        subprocess.run([which("mosquitto_passwd"), "-c", "-b", str(passwd), "mostar-01", "s3cret"], check=True)
        os.chmod(passwd, 0o600)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listener {self.port} {self.host}",
                    f"cafile {self.workdir / 'ca.pem'}",
                    f"certfile {self.workdir / 'server.pem'}",
                    f"keyfile {self.workdir / 'server.key'}",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"user {pwd.getpwuid(os.getuid()).pw_name}",
                    "log_dest stdout",
                    "",
                ]
            )
        )
        return [which("mosquitto", ["/usr/sbin/mosquitto"]), "-c", str(conf)]


@pytest.fixture
def secure_broker(tmp_path: Path):
    """A TLS + password Mosquitto of the test's own."""
    broker = SecureMosquitto(tmp_path / "secure")
    broker.start()
    yield broker
    broker.stop()


def _transport(url: str, ca: Path) -> tuple[PahoTransport, queue.Queue[TransportEvent]]:
    events: queue.Queue[TransportEvent] = queue.Queue()
    transport = PahoTransport(
        "mostar-01", parse_broker_url(url), SystemClock(), events.put, Backoff(0.05, 0.2), str(ca)
    )
    return transport, events


def _drain(events: queue.Queue[TransportEvent]) -> list[TransportEvent]:
    out = []
    while not events.empty():
        out.append(events.get_nowait())
    return out


def test_mqtts_with_bench_credentials(secure_broker: SecureMosquitto) -> None:
    ca = secure_broker.workdir / "ca.pem"
    good, events = _transport(f"mqtts://mostar-01:s3cret@127.0.0.1:{secure_broker.port}", ca)
    good.start()
    try:
        got: list[TransportEvent] = []
        wait_until(lambda: got.extend(_drain(events)) or any(isinstance(e, Connected) for e in got), timeout=15)
        assert good.is_connected()
        mid = good.publish("benches/mostar-01/telemetry", b"{}", 1, False)
        assert mid is not None
    finally:
        good.stop()

    bad, bad_events = _transport(f"mqtts://mostar-01:wrong@127.0.0.1:{secure_broker.port}", ca)
    bad.start()
    try:
        # Give it a few attempts: it must never get a session.
        wait_until(lambda: secure_broker.log_tail().count("not authorised") >= 2 or None, timeout=15)
        assert not any(isinstance(e, Connected) for e in _drain(bad_events))
        assert not bad.is_connected()
    finally:
        bad.stop()


def test_backoff_grows_with_jitter_and_resets() -> None:
    backoff = Backoff(min_s=1, max_s=60, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    assert all(1 <= d <= 60 for d in delays)
    assert max(delays[6:]) > 8  # the cap doubled
    assert len({round(d, 3) for d in delays}) == 10  # jitter: no two benches (or attempts) in step
    backoff.reset()
    assert backoff.next_delay() == 1.0
