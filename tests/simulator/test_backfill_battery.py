"""The backfill's battery loop (``battery_core`` written out inline) equals stepping ``battery_core`` itself.

The reference below is the loop as it was before the inlining: ``next_shed`` every step it may shed,
``battery_core`` and ``split_energy`` called per step. The trajectories drive every branch: charging with
taper to full and the full clamp, the cold-charge inhibit, discharge to empty, the rate limit, capacity fade,
and every shedding set on the way down and back up. Equal means the same floats, not approximately.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.physics.assumptions import DEFAULT_ASSUMPTIONS, BatteryAssumptions
from simulator.physics.backfill import DEFAULT_SHEDDING, _run_battery
from simulator.physics.battery import BatteryState, battery_core
from simulator.physics.ledger import split_energy
from twins.config import LoadSheddingConfig, ShedLoad
from twins.shedding import highest_threshold_pct, next_shed, port_shed

KINDS = [p.kind for p in DEFAULT_ASSUMPTIONS.loads.ports]


def reference(
    state: BatteryState,
    spec: BatteryAssumptions,
    demand: tuple[list[float], list[list[float]], list[float]],
    solar_wh: list[float],
    dt_s: list[float],
    air_c: list[float],
    shedding: LoadSheddingConfig | None,
) -> tuple[list[tuple[float, ...]], list[frozenset[ShedLoad]], BatteryState]:
    base_l, port_l, router_l = demand
    top = highest_threshold_pct(shedding) if shedding is not None else -1.0
    charge, capacity, discharged, age, temp = state.charge_ah, state.capacity_ah, 0.0, 0.0, state.temp_c
    shed: frozenset[ShedLoad] = frozenset()
    full = (np.asarray(base_l) + np.asarray(router_l) + np.asarray(port_l).sum(axis=0)).tolist()
    rows, sheds = [], []
    for i in range(len(solar_wh)):
        soc = 100.0 * charge / capacity
        if shedding is not None and (shed or soc < top):
            shed = next_shed(shed, soc, shedding)
        if shed:
            demand_wh = base_l[i]
            for k, kind in enumerate(KINDS):
                if not port_shed(kind, shed):
                    demand_wh += port_l[k][i]
            if "wifi" not in shed:
                demand_wh += router_l[i]
        else:
            demand_wh = full[i]
        dt_h = dt_s[i] / 3600.0
        charge, capacity, discharged, age, temp, bus, stored, loss = battery_core(
            charge, capacity, discharged, age, temp, (solar_wh[i] - demand_wh) / dt_h, dt_s[i], air_c[i], spec
        )
        served, harvested = split_energy(solar_wh[i], demand_wh, bus * dt_h)
        rows.append((charge, capacity, temp, bus, demand_wh, served, harvested, loss, stored))
        sheds.append(shed)
    return rows, sheds, BatteryState(charge, capacity, discharged, age, temp)


def trajectory(seed: int, n: int, dt: float) -> tuple[tuple[list[float], list[list[float]], list[float]], ...]:
    """Days of strong sun and dark weeks, frost and summer heat, bursts of port use."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * dt
    day = np.clip(np.sin(2 * np.pi * t / 86_400), 0.0, None)
    weather = np.repeat(rng.choice([0.05, 0.3, 1.0], size=n // 600 + 1), 600)[:n]
    solar = (400.0 * day * weather * dt / 3600.0).tolist()
    base = ((4.0 + 3.0 * rng.random(n)) * dt / 3600.0).tolist()
    ports = [((rng.random(n) < 0.2) * rng.uniform(2.0, 90.0, n) * dt / 3600.0).tolist() for _ in KINDS]
    router = ((6.0 + rng.random(n)) * dt / 3600.0).tolist()
    air = (8.0 + 15.0 * np.sin(2 * np.pi * t / (40 * 86_400)) + 4.0 * rng.standard_normal(n)).tolist()
    return (base, ports, router), solar, [dt] * n, air  # type: ignore[return-value]


@pytest.mark.parametrize(("seed", "dt", "soc"), [(1, 60.0, 80.0), (2, 60.0, 20.0), (3, 900.0, 50.0), (4, 300.0, 99.0)])
@pytest.mark.parametrize("shedding", [DEFAULT_SHEDDING, None], ids=["shedding", "no-shedding"])
def test_inline_loop_equals_battery_core(seed: int, dt: float, soc: float, shedding: LoadSheddingConfig | None) -> None:
    spec = DEFAULT_ASSUMPTIONS.battery
    demand, solar, dt_s, air = trajectory(seed, 40_000, dt)
    state = BatteryState.new(spec, soc, air[0] + spec.enclosure_offset_c)  # type: ignore[arg-type]
    want, want_shed, want_final = reference(state, spec, demand, solar, dt_s, air, shedding)  # type: ignore[arg-type]
    run = _run_battery(state, spec, KINDS, demand, solar, dt_s, air, shedding)  # type: ignore[arg-type]
    got = list(
        zip(run.charge_ah, run.capacity_ah, run.temp_c, run.bus_w, run.demand_wh, run.served_wh,
            run.harvested_wh, run.loss_wh, run.stored_wh, strict=True)
    )  # fmt: skip
    assert got == want
    assert [run.shed_sets[c] for c in run.shed_code] == want_shed
    assert run.final == want_final
    if shedding is not None:  # the trajectory went through every shedding set, and back to none
        assert len(set(want_shed)) == 4
    assert min(r[0] for r in want) == 0.0
    assert max(r[0] / r[1] for r in want) >= 0.999
    assert min(air) < 0.0  # frost: charging inhibited
