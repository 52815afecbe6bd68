"""The report's words in bs, hr, sr (Latin and Cyrillic) and en; plural forms by CLDR rules from Babel.

Serbian Cyrillic is not a fifth column: it is the Serbian Latin text transliterated (the two scripts map
letter for letter, digraphs lj, nj, dž included), so the two can never drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from babel import Locale

#: Report languages: a municipality's setting takes one of these.
LANGUAGES: tuple[str, ...] = ("bs", "hr", "sr-Latn", "sr-Cyrl", "en")
# The kiosk's poll labels have one "sr" text (twins.config.LANGUAGES); both scripts start from it.
_LABEL_LANGUAGE = {"bs": "bs", "hr": "hr", "sr-Latn": "sr", "sr-Cyrl": "sr", "en": "en"}
_COLUMNS = ("bs", "hr", "sr-Latn", "en")

# key -> (bs, hr, sr Latin, en)
_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "title": ("Izvještaj o klupama", "Izvješće o klupama", "Izveštaj o klupama", "Bench report"),
    "fleet": ("Sve općine", "Sve općine", "Sve opštine", "All municipalities"),
    "period": ("Period", "Razdoblje", "Period", "Period"),
    "generated": ("Napravljeno", "Izrađeno", "Napravljeno", "Generated"),
    "participation": ("Učešće građana", "Sudjelovanje građana", "Učešće građana", "Citizen participation"),
    "no_polls": ("U ovom periodu nije bilo otvorenih anketa.", "U ovom razdoblju nije bilo otvorenih anketa.",
                 "U ovom periodu nije bilo otvorenih anketa.", "No poll was open in this period."),
    "poll": ("Anketa", "Anketa", "Anketa", "Poll"),
    "open_from_to": ("Otvorena od {opens} do {closes}", "Otvorena od {opens} do {closes}",
                     "Otvorena od {opens} do {closes}", "Open from {opens} to {closes}"),
    "option": ("Odgovor", "Odgovor", "Odgovor", "Answer"),
    "votes": ("Glasovi", "Glasovi", "Glasovi", "Votes"),
    "share": ("Udio", "Udio", "Udeo", "Share"),
    "total": ("Ukupno", "Ukupno", "Ukupno", "Total"),
    "turnout_day": ("Glasovi po danu", "Glasovi po danu", "Glasovi po danu", "Votes per day"),
    "turnout_hour": ("Glasovi po satu dana", "Glasovi po satu dana", "Glasovi po satu dana", "Votes per hour of day"),
    "by_bench": ("Rezultati po klupi", "Rezultati po klupi", "Rezultati po klupi", "Results per bench"),
    "by_municipality": ("Rezultati po općini", "Rezultati po općini", "Rezultati po opštini",
                        "Results per municipality"),
    "earlier": ("Ranije ankete", "Ranije ankete", "Ranije ankete", "Earlier polls"),
    "no_earlier": ("Nema ranijih anketa.", "Nema ranijih anketa.", "Nema ranijih anketa.", "No earlier poll."),
    "votes_per_day": ("Glasova po danu", "Glasova po danu", "Glasova po danu", "Votes per day"),
    "service": ("Usluge građanima", "Usluge građanima", "Usluge građanima", "Service to citizens"),
    "charging": ("Punjenje", "Punjenje", "Punjenje", "Charging"),
    "kind": ("Vrsta priključka", "Vrsta priključka", "Vrsta priključka", "Port kind"),
    "kind.usb": ("USB", "USB", "USB", "USB"),
    "kind.wireless": ("Bežični punjač", "Bežični punjač", "Bežični punjač", "Wireless pad"),
    "kind.scooter": ("Električni romobil", "Električni romobil", "Električni trotinet", "E-scooter"),
    "sessions": ("Punjenja", "Punjenja", "Punjenja", "Sessions"),
    "energy_wh": ("Isporučena energija (Wh)", "Isporučena energija (Wh)", "Isporučena energija (Wh)",
                  "Energy delivered (Wh)"),
    "wifi": ("Wi-Fi", "Wi-Fi", "Wi-Fi", "Wi-Fi"),
    "wifi_sessions": ("Wi-Fi sesije", "Wi-Fi sesije", "Wi-Fi sesije", "Wi-Fi sessions"),
    "wifi_clients_mean": ("Prosječno korisnika", "Prosječno korisnika", "Prosečno korisnika", "Mean clients"),
    "wifi_clients_peak": ("Najviše korisnika", "Najviše korisnika", "Najviše korisnika", "Peak clients"),
    "solar": ("Solarna energija", "Sunčeva energija", "Solarna energija", "Solar energy"),
    "solar_wh": ("Proizvedeno (Wh)", "Proizvedeno (Wh)", "Proizvedeno (Wh)", "Harvested (Wh)"),
    "clear_sky_wh": ("Očekivano uz vedro nebo (Wh)", "Očekivano uz vedro nebo (Wh)", "Očekivano uz vedro nebo (Wh)",
                     "Clear-sky expectation (Wh)"),
    "solar_ratio": ("Udio vedrog neba", "Udio vedrog neba", "Udeo vedrog neba", "Of clear sky"),
    "availability": ("Dostupnost", "Dostupnost", "Dostupnost", "Availability"),
    "online_pct": ("Na mreži (%)", "Na mreži (%)", "Na mreži (%)", "Online (%)"),
    "samples": ("Primljena mjerenja", "Primljena mjerenja", "Primljena merenja", "Samples received"),
    "expected": ("Očekivana mjerenja", "Očekivana mjerenja", "Očekivana merenja", "Samples expected"),
    "alarms": ("Alarmi", "Alarmi", "Alarmi", "Alarms"),
    "alarms_unavailable": ("Evidencija alarma još nije dostupna na ovom serveru.",
                           "Evidencija alarma još nije dostupna na ovom poslužitelju.",
                           "Evidencija alarma još nije dostupna na ovom serveru.",
                           "The alarm log is not available on this server yet."),
    "no_alarms": ("U ovom periodu nije bilo alarma.", "U ovom razdoblju nije bilo alarma.",
                  "U ovom periodu nije bilo alarma.", "No alarm in this period."),
    "alarm": ("Alarm", "Alarm", "Alarm", "Alarm"),
    "severity": ("Ozbiljnost", "Ozbiljnost", "Ozbiljnost", "Severity"),
    "raised": ("Podignut", "Podignut", "Podignut", "Raised"),
    "cleared": ("Otklonjen", "Otklonjen", "Otklonjen", "Cleared"),
    "bench": ("Klupa", "Klupa", "Klupa", "Bench"),
    "municipality": ("Općina", "Općina", "Opština", "Municipality"),
    "day": ("Dan", "Dan", "Dan", "Day"),
    "hour": ("Sat", "Sat", "Sat", "Hour"),
    "question": ("Pitanje", "Pitanje", "Pitanje", "Question"),
    "mail_subject": ("Mjesečni izvještaj o klupama: {place}, {period}",
                     "Mjesečno izvješće o klupama: {place}, {period}",
                     "Mesečni izveštaj o klupama: {place}, {period}", "Monthly bench report: {place}, {period}"),
    "mail_body": ("U prilogu je izvještaj o učešću građana i uslugama klupa za {place} za period {period}.",
                  "U privitku je izvješće o sudjelovanju građana i uslugama klupa za {place} za razdoblje {period}.",
                  "U prilogu je izveštaj o učešću građana i uslugama klupa za {place} za period {period}.",
                  "Attached is the report on citizen participation and bench services for {place}, {period}."),
}  # fmt: skip

# key -> language -> CLDR plural category -> text
_PLURALS: dict[str, tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]] = {
    "n_votes": (
        {"one": "{n} glas", "few": "{n} glasa", "other": "{n} glasova"},
        {"one": "{n} glas", "few": "{n} glasa", "other": "{n} glasova"},
        {"one": "{n} glas", "few": "{n} glasa", "other": "{n} glasova"},
        {"one": "{n} vote", "other": "{n} votes"},
    ),
    "n_benches": (
        {"one": "{n} klupa", "few": "{n} klupe", "other": "{n} klupa"},
        {"one": "{n} klupa", "few": "{n} klupe", "other": "{n} klupa"},
        {"one": "{n} klupa", "few": "{n} klupe", "other": "{n} klupa"},
        {"one": "{n} bench", "other": "{n} benches"},
    ),
}

_LATIN_TO_CYRILLIC = {
    "dž": "џ", "lj": "љ", "nj": "њ", "Dž": "Џ", "DŽ": "Џ", "Lj": "Љ", "LJ": "Љ", "Nj": "Њ", "NJ": "Њ",
    "a": "а", "b": "б", "c": "ц", "č": "ч", "ć": "ћ", "d": "д", "đ": "ђ", "e": "е", "f": "ф", "g": "г",
    "h": "х", "i": "и", "j": "ј", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р",
    "s": "с", "š": "ш", "t": "т", "u": "у", "v": "в", "z": "з", "ž": "ж",
}  # fmt: skip
_LATIN_TO_CYRILLIC |= {k.upper(): v.upper() for k, v in _LATIN_TO_CYRILLIC.items() if len(k) == 1}
# Digraphs first; placeholders ({opens}), units in parentheses such as (Wh) and the names Wi-Fi/USB stay Latin.
_TOKEN = re.compile(r"\{[^}]*\}|\(Wh\)|\(%\)|Wi-Fi|USB|dž|Dž|DŽ|lj|Lj|LJ|nj|Nj|NJ|.", re.DOTALL)


def to_cyrillic(text: str) -> str:
    """Serbian Latin text in Serbian Cyrillic (placeholders and the names Wi-Fi, USB kept)."""
    return "".join(_LATIN_TO_CYRILLIC.get(tok, tok) for tok in _TOKEN.findall(text))


def check_language(language: str) -> str:
    """``language`` if it is a report language; ValueError listing the accepted ones."""
    if language not in LANGUAGES:
        raise ValueError(f"report language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def _column(language: str) -> int:
    return _COLUMNS.index("sr-Latn" if language == "sr-Cyrl" else check_language(language))


def _script(language: str, text: str) -> str:
    return to_cyrillic(text) if language == "sr-Cyrl" else text


def text(language: str, key: str, **values: object) -> str:
    """The report text ``key`` in ``language``, with ``values`` filled in."""
    return _script(language, _TEXTS[key][_column(language)]).format(**values)


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language.replace("-", "_"))


def plural(language: str, key: str, n: int) -> str:
    """``{n} votes`` and the like, in the plural form CLDR gives ``n`` in ``language``."""
    forms = _PLURALS[key][_column(language)]
    category = _locale(language).plural_form(n)
    return _script(language, forms.get(category, forms["other"])).format(n=n)


def label(language: str, labels: Mapping[str, str]) -> str:
    """A poll's question or option in ``language`` (from the kiosk's bs/hr/sr/en labels)."""
    chosen = labels.get(_LABEL_LANGUAGE[check_language(language)]) or labels.get("en") or next(iter(labels.values()))
    return _script(language, chosen)


def name(language: str, proper_name: str) -> str:
    """A place or bench name as written in ``language`` (Cyrillic for sr-Cyrl)."""
    return _script(language, proper_name)
