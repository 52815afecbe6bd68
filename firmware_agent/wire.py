"""Building the contract messages the bench sends (status, events), ready for ``twins.codec.encode``."""

from __future__ import annotations

import uuid
from datetime import datetime

from twins.codec import encode
from twins.messages import (
    BootData,
    BootEvent,
    CmdResultData,
    CmdResultEvent,
    OtaProgressData,
    OtaProgressEvent,
    PortSessionData,
    PortSessionEvent,
    Status,
    TamperData,
    TamperEvent,
    VoteData,
    VoteEvent,
)
from twins.topics import TopicKind, topic_for


def status_payload(bench_id: str, online: bool, ts: datetime, reason: str | None = None) -> bytes:
    """The retained ``status`` document (also the last will, with ``online: false``)."""
    return encode(Status(v=1, bench_id=bench_id, ts=ts, online=online, reason=reason))


def status_topic(bench_id: str) -> str:
    """``benches/{id}/status``."""
    return topic_for(bench_id, TopicKind.STATUS)


def vote_event(bench_id: str, ts: datetime, poll_id: str, option: str) -> VoteEvent:
    """A vote with a fresh UUID."""
    return VoteEvent(
        v=1, bench_id=bench_id, ts=ts, id=uuid.uuid4(), type="vote", data=VoteData(poll_id=poll_id, option=option)
    )


def boot_event(bench_id: str, ts: datetime, firmware: str, reason: str) -> BootEvent:
    """The agent started."""
    return BootEvent(
        v=1, bench_id=bench_id, ts=ts, id=uuid.uuid4(), type="boot", data=BootData(firmware=firmware, reason=reason)
    )


def ota_event(bench_id: str, ts: datetime, data: OtaProgressData) -> OtaProgressEvent:
    """A step of an over-the-air update."""
    return OtaProgressEvent(v=1, bench_id=bench_id, ts=ts, id=uuid.uuid4(), type="ota_progress", data=data)


def cmd_result_event(bench_id: str, ts: datetime, command_id: uuid.UUID, data: CmdResultData) -> CmdResultEvent:
    """The answer to a command; its event id is the command's id (contract)."""
    return CmdResultEvent(v=1, bench_id=bench_id, ts=ts, id=command_id, type="cmd_result", data=data)


def session_event(bench_id: str, ts: datetime, data: PortSessionData) -> PortSessionEvent:
    """A finished charging session."""
    return PortSessionEvent(v=1, bench_id=bench_id, ts=ts, id=uuid.uuid4(), type="port_session", data=data)


def tamper_event(bench_id: str, ts: datetime, data: TamperData) -> TamperEvent:
    """The tamper sensor fired."""
    return TamperEvent(v=1, bench_id=bench_id, ts=ts, id=uuid.uuid4(), type="tamper", data=data)
