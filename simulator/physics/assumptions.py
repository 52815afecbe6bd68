"""Every default of the bench physics, as frozen dataclasses with units in the field names.

Each value is a stated assumption (see docs/simulator.md for the reasoning and approximate sources);
change them by building a new ``Assumptions`` with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from twins.solar import Panel

# The panel is defined once, in twins/solar.py: the dashboard's clear-sky expectation and the yield alarm
# compare against exactly the panel simulated here.
PanelAssumptions = Panel
"""The photovoltaic panel in the seat and its charge controller (``twins.solar.Panel``)."""


@dataclass(frozen=True)
class BatteryAssumptions:
    """The 12.8 V LiFePO4 battery and its battery management system."""

    capacity_wh: float = 1280.0
    """Nominal energy, Wh (12.8 V × 100 Ah)."""
    nominal_voltage_v: float = 12.8
    """Nominal voltage of a 4S LiFePO4 pack, V; converts Wh to Ah for coulomb counting."""
    charge_eff: float = 0.97
    """Charge energy efficiency (bus → stored), fraction."""
    discharge_eff: float = 0.97
    """Discharge energy efficiency (stored → bus), fraction (≈ 94 % round trip)."""
    max_charge_c_per_h: float = 0.5
    """Maximum charge current as a C-rate, 1/h (0.5 C = 50 A for 100 Ah)."""
    max_discharge_c_per_h: float = 1.0
    """Maximum discharge current as a C-rate, 1/h (BMS limit)."""
    taper_start_soc_pct: float = 95.0
    """State of charge above which the charge current tapers linearly to zero at 100 %, %."""
    min_charge_temp_c: float = 0.0
    """Charging is inhibited below this cell temperature, °C (lithium plating)."""
    internal_resistance_ohm: float = 0.02
    """Pack internal resistance for the terminal voltage, Ω."""
    fade_per_efc_frac: float = 0.2 / 4000.0
    """Capacity lost per equivalent full cycle, fraction of nominal (80 % after 4,000 cycles)."""
    calendar_fade_per_year_frac: float = 0.015
    """Capacity lost per calendar year, fraction of nominal."""
    initial_soc_pct: float = 80.0
    """State of charge of a freshly simulated bench, %."""
    enclosure_offset_c: float = 2.0
    """Battery enclosure temperature above ambient air, °C (inside the seat, warmed by the electronics)."""
    thermal_time_constant_s: float = 3.0 * 3600.0
    """Time constant of the battery temperature following the enclosure temperature, s."""


@dataclass(frozen=True)
class PortAssumptions:
    """One charging port: its power and how often and how long people use it."""

    port_id: str
    """Port id in telemetry (contract example: ``usb-1``, ``qi-1``, ``scooter-1``)."""
    kind: str
    """Port kind: ``usb``, ``wireless`` or ``scooter``."""
    power_w: float
    """Maximum power drawn by a session, W."""
    min_power_frac: float
    """Smallest fraction of ``power_w`` a session draws (devices draw less than the port maximum), fraction."""
    sessions_per_day: float
    """Mean sessions started per day at profile factor 1, 1/day."""
    mean_session_min: float
    """Mean session duration (exponential), min."""


DEFAULT_PORTS: tuple[PortAssumptions, ...] = (
    PortAssumptions("usb-1", "usb", 12.0, 0.4, 6.0, 40.0),
    PortAssumptions("qi-1", "wireless", 15.0, 0.6, 3.0, 25.0),
    PortAssumptions("scooter-1", "scooter", 70.0, 0.8, 0.7, 100.0),
)

# Relative rate per local hour (0..23): people sit and charge in the late morning and after work, 17-20 h.
DIURNAL_PROFILE: tuple[float, ...] = (
    0.15, 0.08, 0.05, 0.03, 0.03, 0.05, 0.20, 0.45, 0.70, 0.90, 1.10, 1.25,
    0.95, 0.85, 0.80, 0.90, 1.05, 1.30, 1.45, 1.35, 1.10, 0.80, 0.50, 0.30,
)  # fmt: skip
# Relative rate per weekday, Monday first: more strolling on Friday evening and at the weekend.
WEEKLY_PROFILE: tuple[float, ...] = (0.90, 0.90, 0.90, 0.95, 1.05, 1.20, 1.10)
# Relative rate per month, January first: an outdoor seat is used far more in summer.
SEASONAL_PROFILE: tuple[float, ...] = (
    0.45, 0.50, 0.70, 0.90, 1.10, 1.30, 1.45, 1.40, 1.15, 0.90, 0.60, 0.50,
)  # fmt: skip


@dataclass(frozen=True)
class LoadAssumptions:
    """Electronics of the bench and how people use it."""

    controller_w: float = 1.5
    """Controller (SBC, sensors, modem idle), W; always on."""
    router_w: float = 3.5
    """Wi-Fi router with no clients, W; on while Wi-Fi is enabled. Controller + router = 5 W always-on."""
    wifi_client_w: float = 0.05
    """Extra router power per associated client, W."""
    display_w: float = 4.0
    """Touchscreen at 100 % brightness, W; scales linearly with brightness during its on hours."""
    ports: tuple[PortAssumptions, ...] = DEFAULT_PORTS
    """The charging ports of one bench."""
    wifi_sessions_per_day: float = 50.0
    """Mean Wi-Fi sessions (client associations) per day at profile factor 1, 1/day."""
    wifi_mean_session_min: float = 15.0
    """Mean Wi-Fi session duration (exponential), min."""
    poll_visitors_per_day: float = 10.0
    """Mean kiosk visitors per day at profile factor 1 while at least one poll is open, 1/day."""
    vote_probability: float = 0.8
    """Probability that a visitor answers each open poll, fraction."""
    diurnal_profile: tuple[float, ...] = DIURNAL_PROFILE
    """Relative usage rate per local hour 0..23, dimensionless."""
    weekly_profile: tuple[float, ...] = WEEKLY_PROFILE
    """Relative usage rate per weekday (Monday first), dimensionless."""
    seasonal_profile: tuple[float, ...] = SEASONAL_PROFILE
    """Relative usage rate per month (January first), dimensionless."""
    timezone: str = "Europe/Sarajevo"
    """Local time zone of the benches (usage profiles and 'today' counters are local)."""


@dataclass(frozen=True)
class CloudAssumptions:
    """The stochastic cloud model (daily sunshine fraction, 15-minute sun/cloud blocks)."""

    clear_sky_index_intercept: float = 0.0
    """a in: monthly mean clear-sky index = a + b × relative sunshine duration (Ångström-Prescott form), fraction.
    The default a = 0, b = 1 makes the yield clear-sky × sunshine fraction (conservative; a ≈ 0.25, b ≈ 0.75
    comes closer to measured irradiation)."""
    clear_sky_index_slope: float = 1.0
    """b in the relation above, dimensionless."""
    overcast_clear_sky_index: float = 0.2
    """Irradiance under cloud as a fraction of clear sky (diffuse light only), fraction."""
    day_persistence: float = 0.5
    """Lag-one correlation of the daily sunshine fraction (weather systems last a few days), dimensionless."""
    day_concentration: float = 1.5
    """Beta concentration of the daily sunshine fraction; < 2 gives mostly clear or mostly cloudy days."""
    block_min: int = 15
    """Length of a sun/cloud block within a day, min."""
    block_persistence: float = 0.7
    """Lag-one correlation of sun/cloud blocks within a day, dimensionless."""
    cloud_noise_sd: float = 0.3
    """Log-normal spread of the irradiance under a cloud block, dimensionless."""
    temp_anomaly_sd_c: float = 2.5
    """Standard deviation of the daily air temperature anomaly, °C."""
    temp_anomaly_persistence: float = 0.7
    """Lag-one correlation of the daily air temperature anomaly, dimensionless."""


@dataclass(frozen=True)
class Assumptions:
    """All physics assumptions of one bench."""

    panel: PanelAssumptions = field(default_factory=PanelAssumptions)
    battery: BatteryAssumptions = field(default_factory=BatteryAssumptions)
    loads: LoadAssumptions = field(default_factory=LoadAssumptions)
    clouds: CloudAssumptions = field(default_factory=CloudAssumptions)


DEFAULT_ASSUMPTIONS = Assumptions()


def assumption_rows(assumptions: Assumptions = DEFAULT_ASSUMPTIONS) -> list[tuple[str, object]]:
    """Flatten the scalar assumptions into ``(section.name, value)`` rows for documentation."""
    rows: list[tuple[str, object]] = []
    for section in fields(assumptions):
        part = getattr(assumptions, section.name)
        for item in fields(part):
            value = getattr(part, item.name)
            if isinstance(value, float | int | str):
                rows.append((f"{section.name}.{item.name}", value))
    return rows
