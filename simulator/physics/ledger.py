"""The energy ledger of a bench: where solar and battery energy went, and how one interval splits.

Stepping (``BenchModel``) and the vectorised history (``backfill``) both book an interval with
``split_energy`` and add ``EnergyLedger.of_flows``, so their ledgers close the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class EnergyLedger:
    """Cumulative energy flows since the model started, Wh."""

    pv_dc_wh: float = 0.0
    """DC energy the panel could have produced (before curtailment)."""
    solar_available_wh: float = 0.0
    """Controller output available to the bus."""
    solar_harvested_wh: float = 0.0
    """Controller output actually used (available − curtailed)."""
    curtailed_wh: float = 0.0
    """Solar the controller did not take because the battery was full or limited."""
    load_demand_wh: float = 0.0
    load_served_wh: float = 0.0
    load_unserved_wh: float = 0.0
    battery_loss_wh: float = 0.0
    battery_stored_delta_wh: float = 0.0

    @classmethod
    def of_flows(
        cls,
        pv_dc_wh: float,
        solar_available_wh: float,
        solar_harvested_wh: float,
        load_demand_wh: float,
        load_served_wh: float,
        battery_loss_wh: float,
        battery_stored_delta_wh: float,
    ) -> EnergyLedger:
        """A ledger from its independent flows; curtailed and unserved energy are the differences."""
        return cls(
            pv_dc_wh=pv_dc_wh,
            solar_available_wh=solar_available_wh,
            solar_harvested_wh=solar_harvested_wh,
            curtailed_wh=solar_available_wh - solar_harvested_wh,
            load_demand_wh=load_demand_wh,
            load_served_wh=load_served_wh,
            load_unserved_wh=load_demand_wh - load_served_wh,
            battery_loss_wh=battery_loss_wh,
            battery_stored_delta_wh=battery_stored_delta_wh,
        )

    def __add__(self, other: EnergyLedger) -> EnergyLedger:
        """Both ledgers' flows together."""
        return EnergyLedger(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def split_energy(solar_wh: float, demand_wh: float, battery_wh: float) -> tuple[float, float]:
    """(load served, solar harvested) of one interval, Wh, given what the battery took (+) or gave (−).

    When the battery charges, the whole demand is served and solar covers demand plus charge (the rest
    is curtailed); when it discharges, all solar is used and the load gets solar plus the battery's share.
    """
    if battery_wh >= 0.0:
        return demand_wh, demand_wh + battery_wh
    return solar_wh - battery_wh, solar_wh
