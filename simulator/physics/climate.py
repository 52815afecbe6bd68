"""Monthly sunshine and air temperature climatology for the municipalities of the default fleet.

All figures are approximations for simulation, not measurements: monthly shapes follow the long-term
normals of three reference stations (Mostar for Herzegovina, Sarajevo for central Bosnia, Banja Luka
for the north; WMO 1961-1990 normals as published in national climate summaries), scaled to an annual
sunshine total per municipality. Annual totals: Mostar about 2,300 h, southern Herzegovina 2,000-2,400 h,
northern Bosnia 1,800-1,900 h, the central Bosna valley about 1,800 h with about 41 h in December.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from simulator.physics.errors import UnknownSiteError

_DAYS_IN_MONTH: tuple[int, ...] = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Monthly sunshine hours of the reference stations (January first), approximate long-term normals.
_SUN_MOSTAR_H = (115.0, 125.0, 164.0, 186.0, 239.0, 279.0, 332.0, 307.0, 246.0, 192.0, 123.0, 102.0)
_SUN_SARAJEVO_H = (58.0, 90.0, 127.0, 153.0, 200.0, 213.0, 262.0, 245.0, 186.0, 143.0, 81.0, 41.0)
_SUN_BANJA_LUKA_H = (60.0, 90.0, 135.0, 170.0, 220.0, 240.0, 285.0, 262.0, 195.0, 140.0, 75.0, 48.0)

# Monthly mean air temperature of the reference stations, °C.
_TEMP_MOSTAR_C = (5.5, 7.0, 10.0, 13.9, 18.5, 22.4, 25.5, 25.1, 20.9, 15.8, 10.3, 6.7)
_TEMP_SARAJEVO_C = (-0.5, 1.6, 5.6, 10.0, 14.6, 17.9, 19.9, 19.6, 15.7, 10.8, 5.6, 1.2)
_TEMP_BANJA_LUKA_C = (0.8, 2.9, 7.2, 11.9, 16.8, 20.2, 22.0, 21.5, 17.2, 12.0, 6.5, 2.0)

# Mean daily air temperature range (max − min), °C.
_RANGE_MEDITERRANEAN_C = (7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 13.0, 11.0, 9.0, 7.0, 6.0)
_RANGE_CONTINENTAL_C = (7.0, 8.0, 10.0, 12.0, 12.0, 12.0, 13.0, 13.0, 12.0, 11.0, 8.0, 6.0)


@dataclass(frozen=True)
class SiteClimate:
    """Monthly climatology of one municipality (twelve values each, January first)."""

    municipality: str
    sunshine_h_by_month: tuple[float, ...]
    air_temp_mean_c_by_month: tuple[float, ...]
    air_temp_range_c_by_month: tuple[float, ...]
    note: str

    @property
    def sunshine_h_per_year(self) -> float:
        """Annual sunshine duration, h."""
        return float(sum(self.sunshine_h_by_month))


def _scaled(shape_h: tuple[float, ...], annual_h: float) -> tuple[float, ...]:
    total = sum(shape_h)
    return tuple(h * annual_h / total for h in shape_h)


def _shifted(temps_c: tuple[float, ...], offset_c: float) -> tuple[float, ...]:
    return tuple(round(t + offset_c, 1) for t in temps_c)


# (municipality, sunshine shape, annual sunshine h, temperature reference, temperature offset °C, range, why)
_TABLE: tuple[tuple[str, tuple[float, ...], float, tuple[float, ...], float, tuple[float, ...], str], ...] = (
    ("Mostar", _SUN_MOSTAR_H, 2300.0, _TEMP_MOSTAR_C, 0.0, _RANGE_MEDITERRANEAN_C,
     "Mostar station, about 2,300 h/yr"),
    ("Trebinje", _SUN_MOSTAR_H, 2350.0, _TEMP_MOSTAR_C, -0.5, _RANGE_MEDITERRANEAN_C,
     "southern Herzegovina near the Adriatic, Mostar shape scaled to 2,350 h"),
    ("Ravno", _SUN_MOSTAR_H, 2350.0, _TEMP_MOSTAR_C, -1.0, _RANGE_MEDITERRANEAN_C,
     "Popovo polje near the Adriatic, Mostar shape scaled to 2,350 h"),
    ("Berkovići", _SUN_MOSTAR_H, 2250.0, _TEMP_MOSTAR_C, -1.5, _RANGE_MEDITERRANEAN_C,
     "Herzegovina karst, Mostar shape scaled to 2,250 h"),
    ("Nevesinje", _SUN_MOSTAR_H, 2050.0, _TEMP_MOSTAR_C, -5.2, _RANGE_CONTINENTAL_C,
     "karst plateau at 890 m, more winter cloud; Mostar shape scaled to 2,050 h, −6.5 °C/km lapse rate"),
    ("Jablanica", _SUN_MOSTAR_H, 2000.0, _TEMP_MOSTAR_C, -1.0, _RANGE_MEDITERRANEAN_C,
     "narrow Neretva valley (terrain shading), Mostar shape scaled to 2,000 h"),
    ("Maglaj", _SUN_SARAJEVO_H, 1800.0, _TEMP_SARAJEVO_C, 1.0, _RANGE_CONTINENTAL_C,
     "central Bosna valley like Sarajevo: about 1,800 h/yr, 41 h in December (valley fog)"),
    ("Zavidovići", _SUN_SARAJEVO_H, 1800.0, _TEMP_SARAJEVO_C, 1.0, _RANGE_CONTINENTAL_C,
     "central Bosna valley like Sarajevo: about 1,800 h/yr, 41 h in December (valley fog)"),
    ("Žepče", _SUN_SARAJEVO_H, 1800.0, _TEMP_SARAJEVO_C, 1.0, _RANGE_CONTINENTAL_C,
     "central Bosna valley like Sarajevo: about 1,800 h/yr, 41 h in December (valley fog)"),
    ("Prijedor", _SUN_BANJA_LUKA_H, 1850.0, _TEMP_BANJA_LUKA_C, 0.0, _RANGE_CONTINENTAL_C,
     "Pannonian north, Banja Luka shape scaled to 1,850 h"),
    ("Novi Grad", _SUN_BANJA_LUKA_H, 1850.0, _TEMP_BANJA_LUKA_C, 0.0, _RANGE_CONTINENTAL_C,
     "Una valley in the Pannonian north, Banja Luka shape scaled to 1,850 h"),
    ("Kostajnica", _SUN_BANJA_LUKA_H, 1850.0, _TEMP_BANJA_LUKA_C, 0.0, _RANGE_CONTINENTAL_C,
     "Una valley in the Pannonian north, Banja Luka shape scaled to 1,850 h"),
)  # fmt: skip


def _key(name: str) -> str:
    """Case- and accent-insensitive key, so 'Zepce' finds 'Žepče'."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


CLIMATES: dict[str, SiteClimate] = {
    _key(name): SiteClimate(
        municipality=name,
        sunshine_h_by_month=_scaled(shape, annual),
        air_temp_mean_c_by_month=_shifted(temps, offset),
        air_temp_range_c_by_month=ranges,
        note=why,
    )
    for name, shape, annual, temps, offset, ranges, why in _TABLE
}
"""Climatology per municipality, keyed by a case- and accent-folded name."""


def climate_for(municipality: str) -> SiteClimate:
    """The climatology of a municipality of the default fleet; raises UnknownSiteError otherwise."""
    try:
        return CLIMATES[_key(municipality)]
    except KeyError:
        known = ", ".join(c.municipality for c in CLIMATES.values())
        raise UnknownSiteError(f"no climate for municipality {municipality!r}; known: {known}") from None


# Where each municipality's bench stands (the seed fleet), for picking the nearest climate of a new site.
_POINTS_DEG: dict[str, tuple[float, float]] = {
    "Berkovići": (43.0947, 18.1644),
    "Jablanica": (43.6603, 17.7617),
    "Kostajnica": (45.2196, 16.5393),
    "Maglaj": (44.5477, 18.1000),
    "Mostar": (43.3433, 17.8081),
    "Nevesinje": (43.2586, 18.1133),
    "Novi Grad": (45.0464, 16.3778),
    "Prijedor": (44.9799, 16.7140),
    "Ravno": (42.8875, 17.9656),
    "Trebinje": (42.7120, 18.3436),
    "Zavidovići": (44.4458, 18.1497),
    "Žepče": (44.4267, 18.0378),
}


def nearest_climate(latitude_deg: float, longitude_deg: float) -> SiteClimate:
    """The climatology of the nearest municipality of the default fleet (for benches elsewhere in BiH)."""
    if not (-90.0 <= latitude_deg <= 90.0 and -180.0 <= longitude_deg <= 180.0):
        raise UnknownSiteError(f"no climate for latitude_deg={latitude_deg}, longitude_deg={longitude_deg}")
    scale = math.cos(math.radians(latitude_deg))

    def _distance(name: str) -> float:
        lat, lon = _POINTS_DEG[name]
        return (lat - latitude_deg) ** 2 + ((lon - longitude_deg) * scale) ** 2

    return climate_for(min(_POINTS_DEG, key=_distance))


def possible_sunshine_h_by_month(latitude_deg: float) -> np.ndarray:
    """Astronomically possible sunshine (day length summed over each month), h, for a non-leap year."""
    if not -66.0 < latitude_deg < 66.0:
        raise ValueError(f"latitude_deg must be between -66 and 66 (no polar day/night), got {latitude_deg}")
    day_of_year = np.arange(1, 366)
    declination_rad = np.radians(23.44) * np.sin(2.0 * math.pi * (284 + day_of_year) / 365.0)
    phi = math.radians(latitude_deg)
    hour_angle_rad = np.arccos(np.clip(-math.tan(phi) * np.tan(declination_rad), -1.0, 1.0))
    day_length_h = 2.0 * np.degrees(hour_angle_rad) / 15.0
    edges = np.cumsum((0, *_DAYS_IN_MONTH))
    return np.array([day_length_h[edges[m] : edges[m + 1]].sum() for m in range(12)])


def sunshine_fraction_by_month(climate: SiteClimate, latitude_deg: float) -> np.ndarray:
    """Relative sunshine duration per month (sunshine hours / possible hours), fraction."""
    fraction = np.asarray(climate.sunshine_h_by_month) / possible_sunshine_h_by_month(latitude_deg)
    return np.asarray(np.clip(fraction, 0.02, 0.98), dtype=float)
