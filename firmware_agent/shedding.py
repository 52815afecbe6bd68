"""Load shedding: which loads to switch off at a battery state of charge, with hysteresis."""

from __future__ import annotations

from twins.config import SHED_ORDER, LoadSheddingConfig, ShedLoad

_THRESHOLD = {
    "scooter": lambda c: c.scooter_below_pct,
    "wifi": lambda c: c.wifi_below_pct,
    "usb": lambda c: c.usb_below_pct,
}


def threshold_pct(config: LoadSheddingConfig, load: ShedLoad) -> float:
    """The state of charge (%) below which ``load`` is switched off."""
    value: float = _THRESHOLD[load](config)
    return value


def next_shed(current: frozenset[ShedLoad], soc_pct: float, config: LoadSheddingConfig) -> frozenset[ShedLoad]:
    """Loads to keep off: shed below a threshold, restore only at threshold + hysteresis or above.

    Thresholds are ordered (scooter >= wifi >= usb), so a falling battery sheds scooter, then Wi-Fi,
    then USB, and a recovering one restores them in the reverse order.
    """
    shed: set[ShedLoad] = set()
    for load in SHED_ORDER:
        limit = threshold_pct(config, load)
        if soc_pct < limit or (load in current and soc_pct < limit + config.hysteresis_pct):
            shed.add(load)
    return frozenset(shed)


def ordered(shed: frozenset[ShedLoad]) -> list[ShedLoad]:
    """Shed loads in shedding order (for telemetry and the reported document)."""
    return [load for load in SHED_ORDER if load in shed]
