"""Pydantic models of every MQTT payload in the contract (section 2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter

from twins.config import BenchConfig, OptionId, PollId, ShedLoad
from twins.ids import BenchId
from twins.timefmt import UtcDatetime

PortKind = Literal["usb", "wireless", "scooter"]
PortId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Version = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Model(BaseModel):
    # strict: "81.2" is not a number; extra keys from newer firmware are ignored (contract).
    # allow_inf_nan=False: JSON's 1e400 decodes to Infinity, which no store can keep (InfluxDB refuses the line).
    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", allow_inf_nan=False)


#: The largest integer InfluxDB (int64) and PostgreSQL BIGINT hold; counters beyond it would be refused there.
INT64_MAX = 2**63 - 1
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A non-negative counter that fits in int64."""


def _not_bool(value: object) -> object:
    # JSON ``true`` equals 1 in Python, so Literal[1] alone would take ``"v": true`` as version 1.
    if isinstance(value, bool):
        raise ValueError("Input should be 1")
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(_not_bool)]
"""The payload schema version: the integer 1 (not ``true``)."""


class Envelope(_Model):
    """Fields every payload carries: schema version, bench id and timestamp."""

    v: SchemaVersion
    bench_id: BenchId
    ts: UtcDatetime


# --- telemetry -------------------------------------------------------------------------------------


class BatteryReading(_Model):
    """Battery monitor values."""

    soc_pct: float = Field(ge=0, le=100)
    voltage_v: float = Field(ge=0, le=100)
    current_a: float = Field(ge=-500, le=500, description="positive = charging")
    temp_c: float = Field(ge=-60, le=120)


class SolarReading(_Model):
    """Solar charge controller values."""

    power_w: float = Field(ge=0, le=10_000)
    energy_today_wh: float = Field(ge=0, le=1_000_000)


class LoadReading(_Model):
    """Total consumption of the bench."""

    power_w: float = Field(ge=0, le=10_000)


class PortReading(_Model):
    """One charging port."""

    id: PortId
    kind: PortKind
    active: bool
    power_w: float = Field(ge=0, le=10_000)
    sessions_today: Count


class WifiReading(_Model):
    """The Wi-Fi access point."""

    clients: Count
    sessions_today: Count


VoteCounts = dict[PollId, dict[OptionId, Count]]


class Telemetry(Envelope):
    """A periodic sample (``benches/{id}/telemetry``)."""

    seq: int = Field(ge=0, le=INT64_MAX, description="per-boot monotonic sequence number")
    battery: BatteryReading
    solar: SolarReading
    load: LoadReading
    ports: list[PortReading] = Field(max_length=32)
    wifi: WifiReading
    votes: VoteCounts = Field(description="cumulative votes cast on this bench, per poll and option")
    shed: list[ShedLoad] = Field(default_factory=list, description="loads switched off by load shedding")


# --- events ----------------------------------------------------------------------------------------


class VoteData(_Model):
    """A citizen's vote on the touchscreen."""

    poll_id: PollId
    option: OptionId


class PortSessionData(_Model):
    """A finished charging session."""

    port_id: PortId
    kind: PortKind
    started: UtcDatetime
    ended: UtcDatetime
    # 100 kWh: far above any e-scooter battery, far below what a broken meter or an attacker sends.
    energy_wh: float = Field(ge=0, le=100_000)


class TamperData(_Model):
    """The tamper sensor fired."""

    sensor: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    detail: str = ""


class BootData(_Model):
    """The agent started."""

    firmware: Version
    reason: str = ""


OtaStage = Literal["downloading", "verifying", "staged", "switching", "done", "failed", "rejected", "rolled_back"]


class OtaProgressData(_Model):
    """Progress of an over-the-air update."""

    version: Version
    stage: OtaStage
    error: str | None = None


class CmdResultData(_Model):
    """The answer to a command; the event ``id`` equals the command's ``id``."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    ok: bool
    result: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class _Event(Envelope):
    id: UUID


class VoteEvent(_Event):
    """``type: vote``."""

    type: Literal["vote"]
    data: VoteData


class PortSessionEvent(_Event):
    """``type: port_session``."""

    type: Literal["port_session"]
    data: PortSessionData


class TamperEvent(_Event):
    """``type: tamper``."""

    type: Literal["tamper"]
    data: TamperData


class BootEvent(_Event):
    """``type: boot``."""

    type: Literal["boot"]
    data: BootData


class OtaProgressEvent(_Event):
    """``type: ota_progress``."""

    type: Literal["ota_progress"]
    data: OtaProgressData


class CmdResultEvent(_Event):
    """``type: cmd_result``."""

    type: Literal["cmd_result"]
    data: CmdResultData


BenchEvent = VoteEvent | PortSessionEvent | TamperEvent | BootEvent | OtaProgressEvent | CmdResultEvent
"""Any event on ``benches/{id}/events`` (the one name of the event union)."""
EVENT_ADAPTER: TypeAdapter[BenchEvent] = TypeAdapter(Annotated[BenchEvent, Field(discriminator="type")])
"""Validates an event, telling the kinds apart by ``type`` (one lookup, errors under the tag's name)."""


# --- reported, status, desired, cmd ----------------------------------------------------------------


class FirmwareInfo(_Model):
    """The agent's software."""

    version: Version
    previous: Version | None = None


class HardwareInfo(_Model):
    """What the bench is built of."""

    model: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    driver: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    panel_wp: float | None = Field(default=None, ge=0, le=100_000)
    battery_wh: float | None = Field(default=None, ge=0, le=10_000_000)
    ports: list[PortId] = Field(default_factory=list)


class ConfigReport(_Model):
    """The bench's answer to a desired version."""

    version: int = Field(ge=0, le=INT64_MAX)
    status: Literal["applied", "rejected"]
    error: str | None = None


class Reported(Envelope):
    """The bench's own state document (``benches/{id}/reported``, retained)."""

    firmware: FirmwareInfo
    hardware: HardwareInfo
    config: ConfigReport | None = None
    applied_config: BenchConfig | None = Field(
        default=None, description="the configuration in force on the bench (basis of the twin's delta)"
    )
    shed: list[ShedLoad] = Field(default_factory=list)


class Status(Envelope):
    """Connectivity (``benches/{id}/status``, retained; the last will says ``online: false``)."""

    online: bool
    reason: str | None = None


class Desired(Envelope):
    """Desired configuration (``benches/{id}/desired``, retained), ``version`` strictly increasing."""

    version: int = Field(ge=1, le=INT64_MAX)
    config: BenchConfig


CommandName = Literal["ping", "self_test", "reboot", "ota"]


class Command(Envelope):
    """A one-off command (``benches/{id}/cmd``)."""

    id: UUID
    name: CommandName
    args: dict[str, Any] = Field(default_factory=dict)


class OtaArgs(_Model):
    """Arguments of the ``ota`` command."""

    version: Version
    url: Annotated[str, StringConstraints(pattern=r"^https?://")]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    signature: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="base64 Ed25519 signature of the artifact bytes"
    )
