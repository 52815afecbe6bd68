"""The agent's flags, defined once: ``python -m firmware_agent`` and ``benchfleet agent`` both parse here."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .main import AgentOptions, build_options

MQTT_ENV = "BENCHFLEET_MQTT"


def agent_parser(prog: str, env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of the agent; ``--mqtt`` falls back to ``BENCHFLEET_MQTT`` from ``env``."""
    env = os.environ if env is None else env
    mqtt_default = env.get(MQTT_ENV) or None
    p = argparse.ArgumentParser(prog=prog, description="BenchFleet bench agent (real or simulated hardware).")
    p.add_argument("--bench-id", required=True, metavar="ID", help="this bench's id, e.g. mostar-01")
    p.add_argument(
        "--mqtt",
        dest="mqtt_url",
        metavar="URL",
        required=mqtt_default is None,
        default=mqtt_default,
        help=f"broker URL with this bench's credentials: mqtt://user:pass@host:1883 or mqtts://... (env {MQTT_ENV})",
    )
    p.add_argument(
        "--hardware", default="sim", metavar="SPEC", help="sim or vedirect:/dev/ttyUSB0[,/dev/ttyUSB1] (default: sim)"
    )
    p.add_argument(
        "--data-dir", type=Path, metavar="DIR", default=Path("/var/lib/benchfleet-agent"), help="outbox, config, OTA"
    )
    p.add_argument(
        "--kiosk",
        dest="kiosk_http",
        metavar="HOST:PORT",
        default="127.0.0.1:8080",
        help="touchscreen page host:port, or off",
    )
    p.add_argument(
        "--kiosk-votes-per-minute", type=int, metavar="N", default=6, help="votes one visitor may cast per minute"
    )
    p.add_argument("--ota-public-key", type=Path, metavar="PEM", help="Ed25519 public key (PEM) that signs releases")
    p.add_argument(
        "--rollback-timeout", type=float, metavar="S", default=300.0, help="seconds for a new version to connect"
    )
    p.add_argument("--ca-certs", type=Path, metavar="PEM", help="CA bundle for a private mqtts CA")
    p.add_argument(
        "--drain-rate", dest="drain_rate_per_s", type=float, metavar="N", default=20.0, help="outbox messages/s"
    )
    p.add_argument("--firmware-version", metavar="VERSION", help="version this agent reports (set by packaging)")
    return p


def parse_agent_args(argv: Sequence[str] | None, prog: str, env: Mapping[str, str] | None = None) -> AgentOptions:
    """Flags to checked AgentOptions; argparse exits on a malformed flag, ValueError names a bad value."""
    args = vars(agent_parser(prog, env).parse_args(argv))
    return build_options(**{name: value for name, value in args.items() if value is not None})
