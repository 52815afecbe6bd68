"""The commands a bench answers (``ping``, ``self_test``, ``reboot``, ``ota``), as a table of handlers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from twins.codec import describe_errors
from twins.messages import CmdResultData, Command, OtaProgressData

from .hardware.base import HardwareError
from .ota.manifest import OtaRequest
from .ota.updater import OtaFailed
from .ota.verify import OtaRejected

if TYPE_CHECKING:
    from .agent import BenchAgent

Handler = Callable[["BenchAgent", Command, datetime], CmdResultData]


def ping(agent: BenchAgent, command: Command, now: datetime) -> CmdResultData:
    """Answer with firmware version, uptime and outbox depth."""
    started = agent.started_at or now
    return CmdResultData(
        name="ping",
        ok=True,
        result={
            "firmware": agent.firmware.version,
            "uptime_s": round((now - started).total_seconds(), 1),
            "outbox": agent.outbox.count(),
        },
    )


def _check_port(agent: BenchAgent, port_id: str, restore_on: bool) -> str:
    """Switch a port off and on, reading back each time; then put it back as it was."""
    ports = agent.bench.ports
    try:
        for wanted in (False, True):
            ports.set_port(port_id, wanted)
            reading = next(r for r in ports.read_ports() if r.id == port_id)
            if reading.active != wanted:
                return f"switched {'on' if wanted else 'off'} but reads {'on' if reading.active else 'off'}"
        return "ok"
    except HardwareError as err:
        return str(err)
    finally:
        with contextlib.suppress(HardwareError):
            ports.set_port(port_id, restore_on)


def self_test(agent: BenchAgent, command: Command, now: datetime) -> CmdResultData:
    """Check every port's relay and read-back, and that the battery and charger answer."""
    results: dict[str, str] = {}
    for port in agent.bench.ports.ports():
        restore = agent.outputs.port_on(port.id) if agent.outputs else True
        results[port.id] = _check_port(agent, port.id, restore)
    for name, read in (("battery", agent.bench.battery.read_battery), ("solar", agent.bench.solar.read_solar)):
        try:
            read()
            results[name] = "ok"
        except HardwareError as err:
            results[name] = str(err)
    failed = sorted(k for k, v in results.items() if v != "ok")
    return CmdResultData(
        name="self_test",
        ok=not failed,
        result={"checks": results},
        error=f"failed: {', '.join(failed)}" if failed else None,
    )


def reboot(agent: BenchAgent, command: Command, now: datetime) -> CmdResultData:
    """Restart the agent once the answer is stored (it is published after the restart if need be)."""
    agent.request_restart("reboot")
    return CmdResultData(name="reboot", ok=True, result={"restarting": True})


def ota(agent: BenchAgent, command: Command, now: datetime) -> CmdResultData:
    """Install a signed update and restart into it; a refused artifact leaves the running version."""
    try:
        args = OtaRequest.model_validate(command.args)
    except ValidationError as err:
        return CmdResultData(name="ota", ok=False, error=f"invalid args: {describe_errors(err)}")
    if agent.updater is None:
        return CmdResultData(name="ota", ok=False, error="OTA is not enabled on this bench")

    def progress(data: OtaProgressData) -> None:
        agent.ota_progress(data, now)

    try:
        agent.updater.install(args, agent.firmware.version, agent.bench.info.model, progress)
    except OtaRejected as err:
        progress(OtaProgressData(version=args.version, stage="rejected", error=str(err)))
        return CmdResultData(name="ota", ok=False, error=str(err))
    except OtaFailed as err:
        progress(OtaProgressData(version=args.version, stage="failed", error=str(err)))
        return CmdResultData(name="ota", ok=False, error=str(err))
    agent.request_restart("ota")
    return CmdResultData(name="ota", ok=True, result={"version": args.version, "restarting": True})


COMMANDS: dict[str, Handler] = {"ping": ping, "self_test": self_test, "reboot": reboot, "ota": ota}
"""Command name → handler; every name of ``twins.messages.CommandName`` has one."""
