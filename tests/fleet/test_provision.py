"""Issue 8, item 2: with the files `benchfleet provision` writes, a real Mosquitto keeps benches in their lane."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.provision import (
    BrokerDir,
    ProvisionError,
    check_mosquitto_hash,
    decommission_bench,
    mosquitto_hash,
    provision_bench,
    provision_server_user,
)
from tests.fleet.broker_kit import Probe, ProvisionedMosquitto, probe
from tests.waiting import wait_until

ACCEPTED = 0


def _creds(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return unquote(parts.username or ""), unquote(parts.password or "")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[ProvisionedMosquitto, dict[str, tuple[str, str]]]]:
    """A broker with benches mostar-01 and trebinje-01 and one server user, all made by provisioning."""
    bdir = BrokerDir(tmp_path / "broker")
    creds: dict[str, tuple[str, str]] = {}
    for bench in ("mostar-01", "trebinje-01"):
        bundle = provision_bench(bdir, bench, "mqtt://127.0.0.1:1883", tmp_path / "bundles" / bench)
        creds[bench] = _creds(bundle.url)
    creds["server"] = _creds(provision_server_user(bdir, "mqtt://127.0.0.1:1883"))
    service = ProvisionedMosquitto(tmp_path / "mosq", bdir)
    service.start()
    yield service, creds
    service.stop()


@pytest.fixture
def clients() -> Iterator[list[Probe]]:
    made: list[Probe] = []
    yield made
    for p in made:
        p.stop()


def test_hash_is_mosquittos_format() -> None:
    hashed = mosquitto_hash("correct horse", salt=b"0123456789ab")
    assert hashed.startswith("$7$101$MDEyMzQ1Njc4OWFi$")
    assert check_mosquitto_hash("correct horse", hashed)
    assert not check_mosquitto_hash("wrong horse", hashed)


def test_same_algorithm_as_mosquitto_passwd(tmp_path: Path) -> None:
    # Debian's mosquitto_passwd writes a hash; our checker (the same PBKDF2 as our writer) accepts it.
    path = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "mostar-01", "s3cret pass"], check=True)
    _, stored = path.read_text().strip().split(":", 1)
    assert stored.startswith("$7$101$")
    assert check_mosquitto_hash("s3cret pass", stored)
    assert not check_mosquitto_hash("other", stored)


def test_anonymous_clients_are_refused(broker, clients) -> None:  # type: ignore[no-untyped-def]
    service, _ = broker
    for port in (service.port, service.server_port):
        anon = probe(port, None, None, "anon")
        clients.append(anon)
        assert anon.connect_rc != [ACCEPTED]


def test_credentials_work_only_on_their_own_listener(broker, clients) -> None:  # type: ignore[no-untyped-def]
    service, creds = broker
    bench_on_server = probe(service.server_port, *creds["mostar-01"], "benchfleet-ingest")
    server_on_bench = probe(service.port, *creds["server"], "x")
    wrong_password = probe(service.port, "mostar-01", "guess", "mostar-01")
    clients += [bench_on_server, server_on_bench, wrong_password]
    assert bench_on_server.connect_rc != [ACCEPTED]
    assert server_on_bench.connect_rc != [ACCEPTED]
    assert wrong_password.connect_rc != [ACCEPTED]


def test_a_bench_cannot_take_the_ingesters_queued_session(broker, clients) -> None:  # type: ignore[no-untyped-def]
    service, creds = broker
    ingester = probe(service.server_port, *creds["server"], "benchfleet-ingest", clean=False)
    assert ingester.connect_rc == [ACCEPTED]
    ingester.client.subscribe("benches/+/telemetry", qos=1)
    wait_until(lambda: bool(ingester.subacks), timeout=5, message="ingester subscribed")
    ingester.stop()
    bench = probe(service.port, *creds["mostar-01"], "mostar-01")
    clients.append(bench)
    for seq in range(3):
        bench.client.publish("benches/mostar-01/telemetry", f'{{"seq":{seq}}}', qos=1).wait_for_publish(5)
    # The attack of issue 8: a bench connects with the ingester's client id and a clean session.
    hijack = probe(service.port, *creds["trebinje-01"], "benchfleet-ingest", clean=True)
    clients.append(hijack)
    assert hijack.connect_rc == [ACCEPTED]  # accepted, but as client id "trebinje-01"
    again = probe(service.server_port, *creds["server"], "benchfleet-ingest", clean=False)
    clients.append(again)
    wait_until(lambda: len(again.received("benches/mostar-01/telemetry")) == 3, timeout=5, message="3 queued messages")


def test_a_bench_cannot_kick_another_bench_off(broker, clients) -> None:  # type: ignore[no-untyped-def]
    service, creds = broker
    victim = probe(service.port, *creds["mostar-01"], "mostar-01")
    victim.client.will_set("benches/mostar-01/status", '{"online":false}', qos=1, retain=True)
    watcher = probe(service.server_port, *creds["server"], "benchfleet-watch")
    clients += [victim, watcher]
    watcher.client.subscribe("benches/+/status", qos=1)
    wait_until(lambda: bool(watcher.subacks), timeout=5, message="watcher subscribed")
    attacker = probe(service.port, *creds["trebinje-01"], "mostar-01")
    clients.append(attacker)
    # The attacker got its own id (trebinje-01): both stay connected, so the victim's will never fires.
    attacker.client.publish("benches/trebinje-01/status", '{"online":true}', qos=1).wait_for_publish(5)
    wait_until(lambda: bool(watcher.received("benches/trebinje-01/status")), timeout=5, message="attacker status")
    assert victim.disconnects == []
    assert watcher.received("benches/mostar-01/status") == []


def test_a_bench_cannot_touch_another_benchs_topics(broker, clients) -> None:  # type: ignore[no-untyped-def]
    service, creds = broker
    server = probe(service.server_port, *creds["server"], "benchfleet-pub")
    clients.append(server)
    server.client.subscribe("benches/#", qos=1)
    wait_until(lambda: bool(server.subacks), timeout=5, message="server subscribed")
    for bench in ("mostar-01", "trebinje-01"):
        server.client.publish(f"benches/{bench}/desired", f'{{"for":"{bench}"}}', qos=1, retain=True).wait_for_publish(
            5
        )
    reader = probe(service.port, *creds["trebinje-01"], "trebinje-01")
    clients.append(reader)
    reader.client.subscribe([("benches/mostar-01/desired", 1), ("benches/trebinje-01/desired", 1)])
    # Its own retained desired config arrives; the other bench's (retained just the same, and asked for first)
    # is never delivered: Mosquitto 2.0 grants the subscription but checks read access on every delivery.
    wait_until(lambda: bool(reader.received("benches/trebinje-01/desired")), timeout=5, message="own desired")
    assert reader.received("benches/mostar-01/desired") == []
    reader.stop()
    for topic in ("benches/mostar-01/telemetry", "benches/mostar-01/desired", "benches/mostar-01/status"):
        forger = probe(service.port, *creds["trebinje-01"], "trebinje-01")
        clients.append(forger)
        forger.client.publish(topic, b"forged", qos=1)
        # Mosquitto drops a client that publishes where it may not.
        wait_until(lambda f=forger: bool(f.disconnects), timeout=5, message=f"forger of {topic} dropped")
    # A real message from mostar-01 arrives after the forged attempts were handled; none of those got through.
    real = probe(service.port, *creds["mostar-01"], "mostar-01")
    clients.append(real)
    real.client.publish("benches/mostar-01/telemetry", b"real", qos=1).wait_for_publish(5)
    wait_until(lambda: bool(server.received("benches/mostar-01/telemetry")), timeout=5, message="real telemetry")
    assert b"forged" not in [payload for _, payload in server.messages]


def test_rotate_and_decommission(broker, clients, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service, creds = broker
    old = creds["mostar-01"]
    with pytest.raises(ProvisionError, match="--rotate"):
        provision_bench(service.broker_dir, "mostar-01", "mqtt://127.0.0.1:1883", tmp_path / "again")
    bundle = provision_bench(service.broker_dir, "mostar-01", "mqtt://127.0.0.1:1883", tmp_path / "r", rotate=True)
    service.reload()
    new = _creds(bundle.url)

    def accepted(user_pw: tuple[str, str]) -> bool:
        p = probe(service.port, *user_pw, user_pw[0])
        clients.append(p)
        return p.connect_rc == [ACCEPTED]

    wait_until(lambda: not accepted(old), timeout=5, message="old password refused after rotation")
    assert accepted(new)
    decommission_bench(service.broker_dir, "mostar-01")
    service.reload()
    wait_until(lambda: not accepted(new), timeout=5, message="decommissioned bench refused")
    assert accepted(creds["trebinje-01"])


@pytest.mark.parametrize("bad", ["benchfleet-ingest", "Mostar 01", "ab", "+", "#"])
def test_reserved_and_invalid_ids_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ProvisionError):
        provision_bench(BrokerDir(tmp_path), bad, "mqtt://h:1883", tmp_path / "b")


def test_cli_writes_a_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    ota = tmp_path / "ota.pem"
    ota.write_text("-----BEGIN PUBLIC KEY-----\n")
    args = ["provision", "mostar-01", "--broker-dir", str(tmp_path / "broker"), "--out", str(tmp_path / "bundle")]
    args += ["--broker", "mqtts://broker.example:8883", "--ca", str(ca), "--ota-public-key", str(ota)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "bundle" / "agent.env").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    user, password = _creds(env["BENCHFLEET_MQTT"])
    assert env["BENCHFLEET_MQTT"].startswith("mqtts://mostar-01:")
    assert env["BENCHFLEET_MQTT"].endswith("@broker.example:8883")
    assert (tmp_path / "bundle" / "ca.pem").read_text() == ca.read_text()
    assert (tmp_path / "bundle" / "ota.pub").read_text() == ota.read_text()
    assert env["BENCH_ID"] == "mostar-01"
    assert env["BENCHFLEET_CA_CERTS"] == "/etc/benchfleet/ca.pem"
    stored = dict(line.split(":", 1) for line in (tmp_path / "broker" / "passwd").read_text().splitlines())
    assert check_mosquitto_hash(password, stored[user])
    assert (tmp_path / "bundle" / "agent.env").stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1
    assert "already provisioned" in again.output
    gone = CliRunner().invoke(main, ["decommission", "mostar-01", "--broker-dir", str(tmp_path / "broker")])
    assert gone.exit_code == 0
    assert (tmp_path / "broker" / "passwd").read_text() == ""
