"""The bench's solar panel and what it gives under a clear sky: one panel definition, one expectation.

Pure Python (no pvlib), so the dashboard's expectation, the yield alarm and the agent's simple simulated
hardware can use it anywhere; the simulator's pvlib chain (``simulator/physics/solar.py``) is built on
the same ``Panel`` and agrees with ``clear_sky_power_w`` within the tolerance stated in
``tests/twins/test_twins_solar.py``. The chain mirrors the simulator's: NOAA solar position with refraction,
Ineichen-Perez clear-sky irradiance (monthly Linke turbidity typical of Bosnia and Herzegovina instead
of pvlib's gridded climatology), isotropic transposition onto the tilted seat, SAPM cell temperature at
a typical daytime air temperature of the month, PVWatts DC with losses, and the charge controller.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# SAPM thermal model coefficients for a glass/glass module mounted close to a surface
# (pvlib ``TEMPERATURE_MODEL_PARAMETERS['sapm']['close_mount_glass_glass']``): a panel built into a seat
# has little airflow behind it, so it runs hotter than an open-rack module.
_SEAT_SAPM_A = -2.98
_SEAT_SAPM_B = -0.0471
_SEAT_SAPM_DELTA_T_C = 1.0


@dataclass(frozen=True)
class Panel:
    """The photovoltaic panel in the seat and its charge controller."""

    panel_wp: float = 150.0
    """Nameplate DC power at STC, W (one 150 Wp panel fits a 1.6 m seat)."""
    tilt_deg: float = 10.0
    """Panel tilt from horizontal, degrees (a seat is nearly flat; 10° lets rain wash it)."""
    azimuth_deg: float = 180.0
    """Panel azimuth, degrees clockwise from north (180 = facing south)."""
    albedo: float = 0.2
    """Ground reflectance, dimensionless (pavement and grass)."""
    gamma_pdc_per_c: float = -0.0037
    """Power temperature coefficient of crystalline silicon, 1/°C (PVWatts default −0.37 %/°C)."""
    dc_losses_frac: float = 0.14
    """DC losses (soiling, mismatch, wiring, ageing, shading by sitters), fraction (PVWatts default 14 %)."""
    sapm_a: float = _SEAT_SAPM_A
    """SAPM cell temperature coefficient a (close-mount glass/glass), dimensionless."""
    sapm_b: float = _SEAT_SAPM_B
    """SAPM cell temperature coefficient b, s/m."""
    sapm_delta_t_c: float = _SEAT_SAPM_DELTA_T_C
    """SAPM cell-to-back temperature difference at 1000 W/m², °C."""
    wind_speed_m_s: float = 1.5
    """Wind speed at the seat used for cell temperature, m/s (sheltered urban site)."""
    charge_controller_eff: float = 0.96
    """MPPT charge controller conversion efficiency, fraction."""


DEFAULT_PANEL = Panel()
"""The panel of every bench of the default fleet (and of a bench that does not report ``panel_wp``)."""

#: Linke turbidity by month (January first): mean of pvlib's climatology over the 12 benches' sites.
LINKE_TURBIDITY_BY_MONTH = (2.43, 2.91, 3.21, 3.6, 4.05, 4.2, 4.4, 3.87, 3.95, 3.3, 3.17, 2.63)
#: Typical air temperature while the sun shines, °C, by month: the fleet's mean + 0.35 × daily range.
DAYTIME_AIR_TEMP_C_BY_MONTH = (4.8, 6.9, 11.1, 15.8, 20.7, 24.4, 27.3, 26.9, 22.3, 16.7, 10.4, 5.7)
SOLAR_CONSTANT_W_M2 = 1366.1


@dataclass(frozen=True)
class SunPosition:
    """Where the sun is, degrees: apparent zenith (with refraction), true zenith and azimuth from north."""

    apparent_zenith_deg: float
    zenith_deg: float
    azimuth_deg: float


def sun_position(lat_deg: float, lon_deg: float, when: datetime) -> SunPosition:
    """The sun seen from a place at an aware instant (NOAA solar calculator, about 0.01° in these years)."""
    utc = when.astimezone(UTC)
    jc = (utc.timestamp() / 86400.0 + 2440587.5 - 2451545.0) / 36525.0
    mean_long = (280.46646 + jc * (36000.76983 + jc * 0.0003032)) % 360.0
    anomaly = math.radians(357.52911 + jc * (35999.05029 - 0.0001537 * jc))
    ecc = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    centre = (
        math.sin(anomaly) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
        + math.sin(2 * anomaly) * (0.019993 - 0.000101 * jc)
        + math.sin(3 * anomaly) * 0.000289
    )
    omega = math.radians(125.04 - 1934.136 * jc)
    apparent_long = math.radians(mean_long + centre - 0.00569 - 0.00478 * math.sin(omega))
    mean_obliquity = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0
    obliquity = math.radians(mean_obliquity + 0.00256 * math.cos(omega))
    decl = math.asin(math.sin(obliquity) * math.sin(apparent_long))
    y = math.tan(obliquity / 2) ** 2
    l0 = math.radians(mean_long)
    eq_time_min = 4 * math.degrees(
        y * math.sin(2 * l0)
        - 2 * ecc * math.sin(anomaly)
        + 4 * ecc * y * math.sin(anomaly) * math.cos(2 * l0)
        - 0.5 * y * y * math.sin(4 * l0)
        - 1.25 * ecc * ecc * math.sin(2 * anomaly)
    )
    minutes = utc.hour * 60 + utc.minute + (utc.second + utc.microsecond / 1e6) / 60.0
    hour_angle = math.radians(((minutes + eq_time_min + 4 * lon_deg) % 1440.0) / 4.0 - 180.0)
    lat = math.radians(lat_deg)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    zenith = math.acos(min(1.0, max(-1.0, cos_zenith)))
    denominator = math.cos(lat) * math.sin(zenith)
    if abs(denominator) < 1e-12:
        azimuth = 180.0
    else:
        ratio = min(1.0, max(-1.0, (math.sin(lat) * math.cos(zenith) - math.sin(decl)) / denominator))
        angle = math.degrees(math.acos(ratio))
        azimuth = (angle + 180.0) % 360.0 if hour_angle > 0 else (540.0 - angle) % 360.0
    zenith_deg = math.degrees(zenith)
    return SunPosition(zenith_deg - _refraction_deg(90.0 - zenith_deg), zenith_deg, azimuth)


def _refraction_deg(elevation_deg: float) -> float:
    """Atmospheric refraction that lifts the sun's image (NOAA approximation), degrees."""
    if elevation_deg > 85.0:
        return 0.0
    tan_e = math.tan(math.radians(elevation_deg))
    if elevation_deg > 5.0:
        arcsec = 58.1 / tan_e - 0.07 / tan_e**3 + 0.000086 / tan_e**5
    elif elevation_deg > -0.575:
        e = elevation_deg
        arcsec = 1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711)))
    else:
        arcsec = -20.772 / tan_e
    return arcsec / 3600.0


@dataclass(frozen=True)
class ClearSky:
    """Clear-sky irradiance, W/m²: global horizontal, direct normal and diffuse horizontal."""

    ghi_w_m2: float
    dni_w_m2: float
    dhi_w_m2: float


def clear_sky(apparent_zenith_deg: float, altitude_m: float, day_of_year: int, linke_turbidity: float) -> ClearSky:
    """Ineichen-Perez clear-sky irradiance (as pvlib ``clearsky.ineichen`` without the Perez enhancement)."""
    if apparent_zenith_deg >= 90.0:
        return ClearSky(0.0, 0.0, 0.0)
    cos_z = math.cos(math.radians(apparent_zenith_deg))
    airmass = 1.0 / (cos_z + 0.50572 * (96.07995 - apparent_zenith_deg) ** -1.6364)  # Kasten & Young 1989
    pressure_pa = 100.0 * ((44331.514 - altitude_m) / 11880.516) ** (1 / 0.1902632)
    am = airmass * pressure_pa / 101325.0
    day_angle = 2 * math.pi * (day_of_year - 1) / 365.0  # Spencer's extraterrestrial irradiance
    extra = SOLAR_CONSTANT_W_M2 * (
        1.00011 + 0.034221 * math.cos(day_angle) + 0.00128 * math.sin(day_angle)
        + 0.000719 * math.cos(2 * day_angle) + 0.000077 * math.sin(2 * day_angle)
    )  # fmt: skip
    tl = linke_turbidity
    fh1 = math.exp(-altitude_m / 8000.0)
    fh2 = math.exp(-altitude_m / 1250.0)
    cg1 = 5.09e-05 * altitude_m + 0.868
    cg2 = 3.92e-05 * altitude_m + 0.0387
    ghi = cg1 * extra * cos_z * max(math.exp(-cg2 * am * (fh1 + fh2 * (tl - 1))), 0.0)
    bnci = extra * max((0.664 + 0.163 / fh1) * math.exp(-0.09 * am * (tl - 1)), 0.0)
    bnci_2 = ghi * min(max((1 - (0.1 - 0.2 * math.exp(-tl)) / (0.1 + 0.882 / fh1)) / cos_z, 0.0), 1e20)
    dni = min(bnci, bnci_2)
    return ClearSky(ghi, dni, ghi - dni * cos_z)


def plane_of_array_w_m2(sky: ClearSky, sun: SunPosition, panel: Panel) -> tuple[float, float]:
    """Irradiance on the tilted panel, W/m²: (total, effective after the beam's incidence angle loss)."""
    tilt = math.radians(panel.tilt_deg)
    zen = math.radians(sun.apparent_zenith_deg)
    cos_aoi = math.cos(zen) * math.cos(tilt) + math.sin(zen) * math.sin(tilt) * math.cos(
        math.radians(sun.azimuth_deg - panel.azimuth_deg)
    )
    beam = max(sky.dni_w_m2 * cos_aoi, 0.0)
    diffuse = sky.dhi_w_m2 * (1 + math.cos(tilt)) / 2 + sky.ghi_w_m2 * panel.albedo * (1 - math.cos(tilt)) / 2
    iam = max(0.0, 1.0 - 0.05 * (1.0 / cos_aoi - 1.0)) if cos_aoi > 0 else 0.0  # ASHRAE, b0 = 0.05
    return beam + diffuse, beam * iam + diffuse


def panel_output_w(poa_w_m2: float, poa_effective_w_m2: float, air_temp_c: float, panel: Panel) -> float:
    """Charge-controller output, W: SAPM cell temperature, PVWatts DC, DC losses, controller efficiency."""
    module_c = poa_w_m2 * math.exp(panel.sapm_a + panel.sapm_b * panel.wind_speed_m_s) + air_temp_c
    cell_c = module_c + poa_w_m2 / 1000.0 * panel.sapm_delta_t_c
    dc = poa_effective_w_m2 / 1000.0 * panel.panel_wp * (1 + panel.gamma_pdc_per_c * (cell_c - 25.0))
    return max(dc, 0.0) * (1 - panel.dc_losses_frac) * panel.charge_controller_eff


def clear_sky_power_w(
    lat_deg: float, lon_deg: float, altitude_m: float, when: datetime, panel: Panel = DEFAULT_PANEL
) -> float:
    """What ``panel`` delivers to the battery at ``when`` under a clear sky, W (the yield expectation)."""
    sun = sun_position(lat_deg, lon_deg, when)
    utc = when.astimezone(UTC)
    month = utc.month - 1
    sky = clear_sky(sun.apparent_zenith_deg, altitude_m, utc.timetuple().tm_yday, LINKE_TURBIDITY_BY_MONTH[month])
    poa, effective = plane_of_array_w_m2(sky, sun, panel)
    return panel_output_w(poa, effective, DAYTIME_AIR_TEMP_C_BY_MONTH[month], panel)


def clear_sky_energy_wh(
    lat_deg: float,
    lon_deg: float,
    altitude_m: float,
    start: datetime,
    end: datetime,
    panel: Panel = DEFAULT_PANEL,
    step: timedelta = timedelta(minutes=10),
) -> float:
    """Clear-sky energy delivered between two instants, Wh (midpoint rule in ``step`` slices)."""
    hours = step.total_seconds() / 3600.0
    return sum(clear_sky_power_w(lat_deg, lon_deg, altitude_m, t, panel) * hours for t in _midpoints(start, end, step))


def _midpoints(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    t = start + step / 2
    while t < end:
        yield t
        t += step
