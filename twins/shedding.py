"""The load-shedding rule: which loads a bench switches off at a battery state of charge, with hysteresis.

The contract's ``load_shedding`` names three loads: scooter charging, then Wi-Fi, then USB. Those three
are shed, nothing else: the wireless (Qi) pads are not in the contract's list and stay on (they draw a
few watts and are what a stranded phone falls back on). The agent switches its outputs with this rule
and the simulator's backfill books energy with it, so history and live benches shed alike.
"""

from __future__ import annotations

from twins.config import SHED_ORDER, LoadSheddingConfig, ShedLoad

#: Which shedding stage switches off each port kind; a kind missing here is never shed.
SHED_BY_PORT_KIND: dict[str, ShedLoad] = {"usb": "usb", "scooter": "scooter"}

_THRESHOLD: dict[ShedLoad, str] = {
    "scooter": "scooter_below_pct",
    "wifi": "wifi_below_pct",
    "usb": "usb_below_pct",
}


def threshold_pct(config: LoadSheddingConfig, load: ShedLoad) -> float:
    """The state of charge (%) below which ``load`` is switched off."""
    value: float = getattr(config, _THRESHOLD[load])
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


def shed_bounds(config: LoadSheddingConfig) -> tuple[float, ...]:
    """The states of charge where ``next_shed``'s answer can change, sorted: each threshold and threshold +
    hysteresis. For a given current set, two states of charge with as many bounds at or below them get
    the same answer (a long simulation may remember answers by ``bisect_right(bounds, soc_pct)``)."""
    return tuple(
        sorted(
            b
            for load in SHED_ORDER
            for b in (threshold_pct(config, load), threshold_pct(config, load) + config.hysteresis_pct)
        )
    )


def highest_threshold_pct(config: LoadSheddingConfig) -> float:
    """Above this state of charge, with nothing shed, nothing gets shed (a fast path for simulations)."""
    return max(threshold_pct(config, load) for load in SHED_ORDER)


def port_shed(kind: str, shed: frozenset[ShedLoad]) -> bool:
    """Whether a charging port of ``kind`` (usb, wireless, scooter) is switched off by ``shed``."""
    load = SHED_BY_PORT_KIND.get(kind)
    return load is not None and load in shed


def ordered(shed: frozenset[ShedLoad]) -> list[ShedLoad]:
    """Shed loads in shedding order (for telemetry and the reported document)."""
    return [load for load in SHED_ORDER if load in shed]
