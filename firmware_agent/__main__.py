"""``python -m firmware_agent``: the agent without the full ``benchfleet`` CLI (the flags of ``flags.py``)."""

from __future__ import annotations

import logging
import sys

from .flags import parse_agent_args
from .main import run_agent


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run the agent, return its exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        options = parse_agent_args(argv, prog="python -m firmware_agent")
        return run_agent(options)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
