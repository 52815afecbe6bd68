"""The desired bench configuration (contract section 2) and its validation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from twins.timefmt import UtcDatetime

LANGUAGES: tuple[str, ...] = ("bs", "hr", "sr", "en")
PollId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
OptionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class _Section(BaseModel):
    # allow_inf_nan=False: NaN passes every ge/le check (all comparisons are false), Infinity is no setting.
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", allow_inf_nan=False)


def _all_languages(labels: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not labels.get(lang, "").strip()]
    if missing:
        raise ValueError(f"missing text for language(s): {', '.join(missing)}")
    unknown = sorted(set(labels) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language(s): {', '.join(unknown)}")
    return labels


Labels = Annotated[dict[str, Annotated[str, StringConstraints(max_length=500)]], AfterValidator(_all_languages)]
"""Text in every language of the kiosk: ``bs``, ``hr``, ``sr`` and ``en``."""


class WifiConfig(_Section):
    """Free Wi-Fi access point."""

    enabled: bool
    ssid: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    max_clients: int = Field(ge=1, le=250)
    session_minutes: int = Field(ge=1, le=1440)


class PortSwitch(_Section):
    """A charging port family that can be switched on or off."""

    enabled: bool


class ScooterPortConfig(_Section):
    """E-scooter charging, with a power cap."""

    enabled: bool
    max_power_w: float = Field(ge=0, le=500)


class PortsConfig(_Section):
    """All charging ports."""

    usb: PortSwitch
    wireless: PortSwitch
    scooter: ScooterPortConfig


class OnHours(_Section):
    """Daily window in which the touchscreen is lit (local time, may wrap midnight)."""

    start: ClockTime
    end: ClockTime


class DisplayConfig(_Section):
    """Touchscreen settings."""

    brightness_pct: int = Field(ge=0, le=100)
    on_hours: OnHours


class LoadSheddingConfig(_Section):
    """Battery state of charge (%) below which loads are switched off: scooter first, then Wi-Fi, then USB."""

    scooter_below_pct: float = Field(ge=0, le=100)
    wifi_below_pct: float = Field(ge=0, le=100)
    usb_below_pct: float = Field(ge=0, le=100)
    hysteresis_pct: float = Field(default=5.0, ge=0, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> LoadSheddingConfig:
        if not self.scooter_below_pct >= self.wifi_below_pct >= self.usb_below_pct:
            raise ValueError(
                "thresholds must shed scooter first, then wifi, then usb: "
                "scooter_below_pct >= wifi_below_pct >= usb_below_pct"
            )
        return self


class PollOption(_Section):
    """One answer of a poll."""

    id: OptionId
    labels: Labels


class Poll(_Section):
    """A local poll shown on the touchscreen between ``opens`` and ``closes``."""

    id: PollId
    question: Labels
    options: list[PollOption] = Field(min_length=2, max_length=10)
    opens: UtcDatetime
    closes: UtcDatetime

    # Field validators (not a model validator) so that the error names the field: polls.0.closes.
    @field_validator("options")
    @classmethod
    def _unique_options(cls, options: list[PollOption]) -> list[PollOption]:
        ids = [o.id for o in options]
        if len(set(ids)) != len(ids):
            raise ValueError("option ids must be unique")
        return options

    @field_validator("closes")
    @classmethod
    def _after_opens(cls, closes: datetime, info: ValidationInfo) -> datetime:
        opens = info.data.get("opens")
        if opens is not None and closes <= opens:
            raise ValueError("closes must be after opens")
        return closes

    def is_open(self, at: datetime) -> bool:
        """Tell whether the poll accepts votes at ``at``."""
        return self.opens <= at < self.closes


ANNOUNCEMENT_LANGUAGES: tuple[str, ...] = ("bs", "hr", "sr")
"""An announcement's required languages (English is optional: it is a municipality's word to its citizens)."""


def _announcement_languages(text: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in ANNOUNCEMENT_LANGUAGES if not text.get(lang, "").strip()]
    if missing:
        raise ValueError(f"missing text for language(s): {', '.join(missing)}")
    unknown = sorted(set(text) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language(s): {', '.join(unknown)}")
    return text


AnnouncementText = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=280)]], AfterValidator(_announcement_languages)
]
"""A short text in ``bs``, ``hr`` and ``sr`` (``en`` optional), at most 280 characters each."""


class Announcement(_Section):
    """A municipality's short notice, shown on the kiosk from ``starts`` until ``ends``."""

    id: PollId
    text: AnnouncementText
    starts: UtcDatetime
    ends: UtcDatetime

    @field_validator("ends")
    @classmethod
    def _after_starts(cls, ends: datetime, info: ValidationInfo) -> datetime:
        starts = info.data.get("starts")
        if starts is not None and ends <= starts:
            raise ValueError("ends must be after starts")
        return ends

    def is_shown(self, at: datetime) -> bool:
        """Tell whether the kiosk shows the announcement at ``at``."""
        return self.starts <= at < self.ends


class BenchConfig(_Section):
    """The whole desired configuration of one bench."""

    telemetry_interval_s: int = Field(ge=5, le=3600)
    wifi: WifiConfig
    ports: PortsConfig
    display: DisplayConfig
    load_shedding: LoadSheddingConfig
    polls: list[Poll] = Field(default_factory=list, max_length=20)
    # Beyond the contract's listed keys (it says "at least"): the municipality's notices for the kiosk.
    # Left out of the document while empty, so benches on firmware older than this key (which refuses
    # unknown keys) keep applying their configs until a municipality publishes an announcement.
    announcements: list[Announcement] = Field(default_factory=list, max_length=10, exclude_if=lambda items: not items)

    @field_validator("announcements")
    @classmethod
    def _unique_announcements(cls, items: list[Announcement]) -> list[Announcement]:
        ids = [a.id for a in items]
        if len(set(ids)) != len(ids):
            raise ValueError("announcement ids must be unique")
        return items

    @field_validator("polls")
    @classmethod
    def _unique_polls(cls, polls: list[Poll]) -> list[Poll]:
        ids = [p.id for p in polls]
        if len(set(ids)) != len(ids):
            raise ValueError("poll ids must be unique")
        return polls

    def poll(self, poll_id: str) -> Poll | None:
        """Return the poll with that id, if configured."""
        return next((p for p in self.polls if p.id == poll_id), None)


ShedLoad = Literal["scooter", "wifi", "usb"]
#: Shedding order, first shed first.
SHED_ORDER: tuple[ShedLoad, ...] = ("scooter", "wifi", "usb")

DEFAULT_CONFIG_DOC: dict[str, Any] = {
    "telemetry_interval_s": 60,
    "wifi": {"enabled": True, "ssid": "SmartBench", "max_clients": 20, "session_minutes": 60},
    "ports": {
        "usb": {"enabled": True},
        "wireless": {"enabled": True},
        "scooter": {"enabled": True, "max_power_w": 70.0},
    },
    "display": {"brightness_pct": 80, "on_hours": {"start": "06:00", "end": "23:00"}},
    "load_shedding": {"scooter_below_pct": 40.0, "wifi_below_pct": 25.0, "usb_below_pct": 15.0, "hysteresis_pct": 5.0},
    "polls": [],
}
"""The configuration a new bench gets until someone changes it."""
