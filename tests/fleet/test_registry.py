"""Registry CSV: the seed holds the 12 benches; bad rows are rejected naming the line and the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.registry import CSV_COLUMNS, RegistryCsvError, default_fleet, load_csv, parse_csv

HEADER = ",".join(CSV_COLUMNS)
GOOD = "mostar-01,Mostar,Mostar,FBiH,Herzegovina-Neretva,43.3433,17.8081,60,2023-11"

EXPECTED_IDS = {
    "berkovici-01",
    "jablanica-01",
    "kostajnica-01",
    "maglaj-01",
    "mostar-01",
    "nevesinje-01",
    "novi-grad-01",
    "prijedor-01",
    "ravno-01",
    "trebinje-01",
    "zavidovici-01",
    "zepce-01",
}


def test_seed_has_the_twelve_benches_one_per_municipality() -> None:
    fleet = default_fleet()
    assert {r.bench_id for r in fleet} == EXPECTED_IDS
    assert len(fleet) == 12
    assert len({r.attributes.municipality for r in fleet}) == 12
    assert {r.attributes.installed for r in fleet} == {"2023-11"}
    assert {r.attributes.entity for r in fleet} == {"FBiH", "RS"}
    # Bosnia and Herzegovina, roughly.
    for r in fleet:
        assert 42.5 < r.attributes.lat < 45.5, r.bench_id
        assert 15.5 < r.attributes.lon < 19.7, r.bench_id
    zepce = next(r for r in fleet if r.bench_id == "zepce-01").attributes
    assert (zepce.name, zepce.municipality, zepce.canton) == ("Žepče", "Žepče", "Zenica-Doboj")
    assert zepce.altitude_m == 230


def test_load_csv_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "import.csv"
    path.write_text(f"{HEADER}\n{GOOD}\nBAD ID,x,y,,,1,2,3,\n", encoding="utf-8")
    with pytest.raises(RegistryCsvError, match=rf"^{path} line 3: column 'bench_id'"):
        load_csv(path)


def test_optional_columns_may_be_empty() -> None:
    [rec] = parse_csv(f"{HEADER}\nravno-02,,Ravno,,,42.9,17.9,,\n")
    assert rec.attributes.name == "ravno-02"  # the id stands in for a missing name
    assert rec.attributes.altitude_m == 0.0
    assert rec.attributes.entity == ""


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("Mostar-02,Mostar,Mostar,FBiH,,43.3,17.8,60,2023-11", "bench_id"),
        (",Mostar,Mostar,FBiH,,43.3,17.8,60,2023-11", "bench_id"),
        ("mostar-02,Mostar,,FBiH,,43.3,17.8,60,2023-11", "municipality"),
        ("mostar-02,Mostar,Mostar,FBiH,,north,17.8,60,2023-11", "lat"),
        ("mostar-02,Mostar,Mostar,FBiH,,43.3,,60,2023-11", "lon"),
        ("mostar-02,Mostar,Mostar,FBiH,,93.3,17.8,60,2023-11", "lat"),
        ("mostar-02,Mostar,Mostar,FBiH,,43.3,190,60,2023-11", "lon"),
        ("mostar-02,Mostar,Mostar,FBiH,,43.3,17.8,high,2023-11", "altitude_m"),
        ("mostar-02,Mostar,Mostar", "lat"),  # a short row
        ("mostar-01,Mostar,Mostar,FBiH,,43.3,17.8,60,2023-11", "bench_id"),  # duplicate of line 2
    ],
)
def test_bad_rows_name_line_and_column(row: str, column: str) -> None:
    text = f"{HEADER}\n{GOOD}\n{row}\n"
    with pytest.raises(RegistryCsvError) as info:
        parse_csv(text, source="import.csv")
    message = str(info.value)
    assert message.startswith(f"import.csv line 3: column '{column}'"), message
    assert "\n" not in message


def test_line_numbers_count_blank_lines() -> None:
    text = f"{HEADER}\n{GOOD}\n\n\nBad,x,y,,,1,2,3,\n"
    with pytest.raises(RegistryCsvError, match=r"line 5: column 'bench_id'"):
        parse_csv(text)


def test_missing_columns_are_named() -> None:
    with pytest.raises(RegistryCsvError, match=r"missing column\(s\) lat, lon"):
        parse_csv("bench_id,name,municipality,entity,canton,altitude_m,installed\n")
