"""A real Mosquitto running the files `benchfleet provision` generates, and small paho helpers for attacks."""

from __future__ import annotations

import os
import pwd
import signal
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.provision import BrokerDir, BrokerListeners
from tests.services import ProcessService, free_port, which
from tests.waiting import wait_until


class ProvisionedMosquitto(ProcessService):
    """Mosquitto with the generated snippet: a bench listener (``port``) and a server listener (``server_port``)."""

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        broker_dir: BrokerDir,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        server_tls: bool = False,
    ) -> None:
        super().__init__(workdir)
        self.broker_dir = broker_dir
        self.server_port = free_port()
        self.certfile = certfile
        self.keyfile = keyfile
        self.server_tls = server_tls

    def _write_config(self) -> list[str]:
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        snippet = self.broker_dir.write_config(
            BrokerListeners(
                bench=f"{self.port} 127.0.0.1",
                server=f"{self.server_port} 127.0.0.1",
                certfile=str(self.certfile) if self.certfile else None,
                keyfile=str(self.keyfile) if self.keyfile else None,
                server_tls=self.server_tls,
            )
        )
        base = [
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            "persistence true",
            f"persistence_location {data}/",
            "max_queued_messages 0",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "",
        ]
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(base) + snippet.read_text(encoding="utf-8"))
        return [which("mosquitto", ["/usr/sbin/mosquitto"]), "-c", str(conf)]

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads password and ACL files (what `systemctl reload mosquitto` does)."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGHUP)


@dataclass
class Probe:
    """A paho client that records what happened to it."""

    client: mqtt.Client
    connect_rc: list[int] = field(default_factory=list)
    disconnects: list[int] = field(default_factory=list)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    subacks: list[list[int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self, topic: str) -> list[bytes]:
        """Payloads received on ``topic``."""
        with self.lock:
            return [p for t, p in self.messages if t == topic]

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def probe(
    port: int,
    user: str | None,
    password: str | None,
    client_id: str,
    *,
    clean: bool = True,
    ca: Path | None = None,
    wait: bool = True,
) -> Probe:
    """Connect a client and wait for its CONNACK (``connect_rc[0]`` is 0 when accepted)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean, protocol=mqtt.MQTTv311)
    p = Probe(client)
    if user is not None:
        client.username_pw_set(user, password)
    if ca is not None:
        client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)

    def on_connect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        p.connect_rc.append(int(rc.value if hasattr(rc, "value") else rc))

    def on_disconnect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        p.disconnects.append(int(rc.value if hasattr(rc, "value") else rc))

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with p.lock:
            p.messages.append((msg.topic, msg.payload))

    def on_subscribe(_c: Any, _u: Any, _mid: Any, codes: Any, _p: Any = None) -> None:
        p.subacks.append([int(c.value if hasattr(c, "value") else c) for c in codes])

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.reconnect_delay_set(60, 60)  # a refused client must not retry during the test
    client.connect("127.0.0.1", port)
    client.loop_start()
    if wait:
        wait_until(lambda: bool(p.connect_rc or p.disconnects), timeout=10, message=f"CONNACK for {user}/{client_id}")
    return p
