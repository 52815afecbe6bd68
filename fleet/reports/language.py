"""Which language a municipality's reports are written in: a setting, with a default by entity."""

from __future__ import annotations

from collections.abc import Mapping

from fleet.reports.texts import check_language

#: Republika Srpska writes Serbian in Cyrillic (its official script); the Federation and Brčko get Bosnian.
ENTITY_DEFAULT = {"RS": "sr-Cyrl", "FBiH": "bs", "BD": "bs"}
FALLBACK = "en"


def parse_languages(setting: str) -> dict[str, str]:
    """``Mostar=hr,Trebinje=sr-Latn`` into a mapping; ValueError naming the bad item."""
    chosen: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in setting.split(","))):
        municipality, sep, language = item.partition("=")
        if not sep or not municipality.strip():
            raise ValueError(f"report languages: {item!r} is not MUNICIPALITY=LANGUAGE")
        chosen[municipality.strip()] = check_language(language.strip())
    return chosen


def municipality_language(municipality: str | None, entity: str, overrides: Mapping[str, str]) -> str:
    """The override for ``municipality`` if any, else the entity's default; the fleet report is in English."""
    if municipality is None:
        return overrides.get("*", FALLBACK)
    return overrides.get(municipality) or ENTITY_DEFAULT.get(entity, FALLBACK)
