"""Issue 8, item 6: mqtts end to end (agent -> Mosquitto with TLS -> fleet ingestion), verification on by default."""

from __future__ import annotations

import ipaddress
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fleet.cli import main
from fleet.provision import BrokerDir, provision_bench, provision_server_user
from fleet.tls_check import TlsTrustError, check_broker_tls
from tests.fleet.broker_kit import ProvisionedMosquitto, probe
from tests.fleet.conftest import RuntimeFactory
from tests.services import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pki:
    ca: Path
    wrong_ca: Path
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a broker certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _ca("BenchFleet test CA")
    _, wrong = _ca("Someone else's CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Pki(folder / "ca.pem", folder / "wrong-ca.pem", folder / "server.crt", folder / "server.key")
    paths.ca.write_bytes(_pem(ca_cert))
    paths.wrong_ca.write_bytes(_pem(wrong))
    paths.cert.write_bytes(_pem(cert))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[ProvisionedMosquitto]:
    """Mosquitto with TLS on both listeners (the provisioned files), not yet holding any user."""
    service = ProvisionedMosquitto(
        tmp_path / "mosq", BrokerDir(tmp_path / "broker"), certfile=pki.cert, keyfile=pki.key, server_tls=True
    )
    service.start()
    yield service
    service.stop()


def _agent(bench_id: str, url: str, ca: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "fleet.cli", "agent", "--bench-id", bench_id, "--mqtt", url, "--hardware", "sim",
        "--data-dir", str(tmp_path / "agent"), "--kiosk", f"127.0.0.1:{free_port()}", "--ca-certs", str(ca),
    ]  # fmt: skip
    log = (tmp_path / "agent.log").open("ab")
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log)


def test_agent_to_fleet_over_mqtts(
    tls_broker: ProvisionedMosquitto,
    pki: Pki,
    tmp_path: Path,
    runtime_factory: RuntimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = provision_bench(
        tls_broker.broker_dir, "mostar-01", f"mqtts://127.0.0.1:{tls_broker.port}", tmp_path / "bundle", ca_file=pki.ca
    )
    server_url = provision_server_user(tls_broker.broker_dir, f"mqtts://127.0.0.1:{tls_broker.server_port}")
    tls_broker.reload()
    # The fleet trusts the private CA through OpenSSL's SSL_CERT_FILE (the server has no CA option of its own).
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca))
    runtime = runtime_factory(server_url)
    agent = _agent("mostar-01", bundle.url, tmp_path / "bundle" / "ca.pem", tmp_path)
    try:
        twin = wait_until(
            lambda: (t := runtime.service.get_twin("mostar-01")) is not None and t.connectivity.online and t,
            timeout=30,
            message="the agent's status reached the fleet over TLS",
        )
        assert twin.connectivity.last_seen is not None
    finally:
        agent.terminate()
        agent.wait(timeout=15)


def test_plain_mqtt_to_the_tls_listener_is_refused(tls_broker: ProvisionedMosquitto, tmp_path: Path) -> None:
    bundle = provision_bench(tls_broker.broker_dir, "mostar-01", "mqtt://127.0.0.1:1", tmp_path / "b")
    tls_broker.reload()
    user, password = unquote(urlsplit(bundle.url).username or ""), unquote(urlsplit(bundle.url).password or "")
    plain = probe(tls_broker.port, user, password, user, wait=False)
    try:
        wait_until(lambda: bool(plain.disconnects), timeout=10, message="plain client dropped")
        assert plain.connect_rc == []
    finally:
        plain.stop()


def test_wrong_ca_is_one_clear_error(tls_broker: ProvisionedMosquitto, pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(TlsTrustError) as err:
        check_broker_tls("127.0.0.1", tls_broker.port, pki.wrong_ca, "--ca-certs")
    assert f"127.0.0.1:{tls_broker.port} is not trusted by CA file {pki.wrong_ca}" in str(err.value)
    assert check_broker_tls("127.0.0.1", tls_broker.port, pki.ca, "--ca-certs") is True
    # Verification is on by default: without any CA the system store does not know our private CA.
    with pytest.raises(TlsTrustError, match="system CAs"):
        check_broker_tls("127.0.0.1", tls_broker.port, None, "BENCHFLEET_MQTT")
    # The agent stops at start with that one line (exit 1) instead of retrying silently.
    url = f"mqtts://mostar-01:pw@127.0.0.1:{tls_broker.port}"
    args = ["agent", "--bench-id", "mostar-01", "--mqtt", url, "--ca-certs", str(pki.wrong_ca)]
    result = CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path / "a"), "--kiosk", f"127.0.0.1:{free_port()}"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --mqtt / --ca-certs: the certificate of 127.0.0.1:")
    assert "pw" not in result.output


def test_unreachable_broker_does_not_stop_a_start() -> None:
    assert check_broker_tls("127.0.0.1", free_port(), None, "BENCHFLEET_MQTT", timeout_s=1) is False


#: Shipped broker configurations and how each one's host paths, ports and certificate names read.
SHIPPED = {
    "compose": (
        ROOT / "deploy" / "compose" / "mosquitto.conf",
        {"/var/lib/benchfleet-broker": "{broker}", "/mosquitto/certs/server.crt": "{cert}",
         "/mosquitto/certs/server.key": "{key}", "/mosquitto/data": "{data}",
         "listener 1883": "listener {server_port} 127.0.0.1", "listener 8883": "listener {port} 127.0.0.1"},
    ),
    "production": (
        ROOT / "deploy" / "mosquitto" / "mosquitto.conf",
        {"/etc/mosquitto/benchfleet": "{broker}", "/etc/mosquitto/certs/fullchain.pem": "{cert}",
         "/etc/mosquitto/certs/privkey.pem": "{key}", "/var/lib/mosquitto": "{data}",
         "log_dest syslog": "log_dest stdout",
         "listener 1883 127.0.0.1": "listener {server_port} 127.0.0.1", "listener 8883": "listener {port} 127.0.0.1"},
    ),
}  # fmt: skip


class _ShippedConfig(ProvisionedMosquitto):
    """Mosquitto running a shipped configuration file, its paths and ports moved into the test's folders."""

    def __init__(self, workdir: Path, broker_dir: BrokerDir, shipped: str, pki: Pki) -> None:
        super().__init__(workdir, broker_dir)
        self.shipped = shipped
        self.pki = pki

    def _write_config(self) -> list[str]:
        (self.workdir / "data").mkdir(exist_ok=True)
        path, replacements = SHIPPED[self.shipped]
        values = {
            "broker": str(self.broker_dir.path),
            "cert": str(self.pki.cert),
            "key": str(self.pki.key),
            "data": str(self.workdir / "data"),
            "port": str(self.port),
            "server_port": str(self.server_port),
        }
        text = path.read_text(encoding="utf-8")
        for old, new in replacements.items():
            assert old in text, f"{path} no longer has {old!r}"
            text = text.replace(old, new.format(**values))
        conf = self.workdir / "shipped.conf"
        conf.write_text(f"user {pwd.getpwuid(os.getuid()).pw_name}\n" + text, encoding="utf-8")
        return ["/usr/sbin/mosquitto", "-c", str(conf)]


@pytest.mark.parametrize("shipped", sorted(SHIPPED))
def test_the_shipped_broker_configs_run_with_tls(tmp_path: Path, pki: Pki, shipped: str) -> None:
    """deploy/compose and deploy/mosquitto as shipped: TLS for benches, provisioned users only, ids tied to users."""
    broker_dir = BrokerDir(tmp_path / "broker")
    service = _ShippedConfig(tmp_path / "mosq", broker_dir, shipped, pki)
    bundle = provision_bench(broker_dir, "mostar-01", f"mqtts://127.0.0.1:{service.port}", tmp_path / "b")
    user, password = unquote(urlsplit(bundle.url).username or ""), unquote(urlsplit(bundle.url).password or "")
    server_url = provision_server_user(broker_dir, f"mqtt://127.0.0.1:{service.server_port}")
    server_user = unquote(urlsplit(server_url).username or "")
    server_password = unquote(urlsplit(server_url).password or "")
    service.start()
    probes = []
    try:
        ingester = probe(service.server_port, server_user, server_password, "benchfleet-ingest", clean=False)
        probes.append(ingester)
        bench = probe(service.port, user, password, "benchfleet-ingest", ca=pki.ca)  # gets its own id instead
        probes.append(bench)
        anonymous = probe(service.port, None, None, "anon", ca=pki.ca)
        probes.append(anonymous)
        assert ingester.connect_rc == [0]
        assert bench.connect_rc == [0]
        assert anonymous.connect_rc != [0]
        # The ingester's session is still its own: a QoS 1 round trip succeeds after the bench connected.
        ingester.client.publish("benches/mostar-01/desired", b"{}", qos=1).wait_for_publish(5)
        assert ingester.disconnects == []
    finally:
        for p in probes:
            p.stop()
        service.stop()
