"""What a bench's panel would give under a clear sky (pvlib Haurwitz irradiance, horizontal panel)."""

from __future__ import annotations

from datetime import datetime, timedelta

# Losses between rated panel power and what reaches the battery (soiling, wiring, MPPT, temperature).
DERATE = 0.8
DEFAULT_PANEL_WP = 200.0


def clear_sky_power_w(
    lat: float, lon: float, altitude_m: float, times: list[datetime], panel_wp: float | None
) -> list[float]:
    """Expected solar power at each time: clear-sky GHI × panel Wp / 1000 W/m² × derate.

    A horizontal-panel approximation: benches carry flat panels on their roof, so GHI is the plane of array.
    """
    if not times:
        return []
    import pandas as pd  # imported here: pvlib and pandas take a second, only the bench page needs them
    from pvlib.location import Location

    index = pd.DatetimeIndex(times)
    ghi = Location(lat, lon, altitude=altitude_m).get_clearsky(index, model="haurwitz")["ghi"]
    scale = (panel_wp or DEFAULT_PANEL_WP) / 1000.0 * DERATE
    return [round(float(v) * scale, 1) for v in ghi.to_numpy()]


def clear_sky_daily_wh(
    lat: float, lon: float, altitude_m: float, days: list[datetime], panel_wp: float | None
) -> list[float]:
    """Expected energy per day (Wh), integrating the clear-sky power in 15-minute steps."""
    step = timedelta(minutes=15)
    times = [day + i * step for day in days for i in range(96)]
    power = clear_sky_power_w(lat, lon, altitude_m, times, panel_wp)
    return [round(sum(power[i * 96 : (i + 1) * 96]) * 0.25, 0) for i in range(len(days))]
