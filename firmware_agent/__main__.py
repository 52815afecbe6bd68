"""``python -m firmware_agent``: the agent without the full ``benchfleet`` CLI (same options)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .main import AgentOptions, build_options, run_agent


def parse_args(argv: list[str] | None = None) -> AgentOptions:
    """Command-line flags to AgentOptions."""
    p = argparse.ArgumentParser(prog="python -m firmware_agent", description="BenchFleet bench agent")
    p.add_argument("--bench-id", required=True)
    p.add_argument("--mqtt", required=True, help="mqtt://user:pass@host:1883 or mqtts://...")
    p.add_argument("--hardware", default="sim", help="sim | vedirect:/dev/ttyUSB0[,/dev/ttyUSB1]")
    p.add_argument("--data-dir", type=Path, default=Path("/var/lib/benchfleet-agent"))
    p.add_argument("--kiosk", default="127.0.0.1:8080", help="host:port, or 'off'")
    p.add_argument("--kiosk-votes-per-minute", type=int, default=6)
    p.add_argument("--ota-public-key", type=Path)
    p.add_argument("--rollback-timeout", type=float, default=300.0)
    p.add_argument("--ca-certs", type=Path)
    p.add_argument("--drain-rate", type=float, default=20.0)
    p.add_argument("--firmware-version")
    a = p.parse_args(argv)
    return build_options(
        bench_id=a.bench_id,
        mqtt_url=a.mqtt,
        hardware=a.hardware,
        data_dir=a.data_dir,
        kiosk_http=a.kiosk,
        ota_public_key=a.ota_public_key,
        rollback_timeout=a.rollback_timeout,
        kiosk_votes_per_minute=a.kiosk_votes_per_minute,
        ca_certs=a.ca_certs,
        drain_rate_per_s=a.drain_rate,
        firmware_version=a.firmware_version,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run the agent, return its exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        options = parse_args(argv)
        return run_agent(options)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
