"""The InfluxDB v1 HTTP adapter: URL settings, line protocol, error mapping, against a real influxd."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from fleet.tsdb import TsdbRejected, TsdbUnavailable
from fleet.tsdb.influx_v1 import InfluxSettings, InfluxV1Store, encode_lines, literal, parse_influx_url, to_line
from tests.services import InfluxService, free_port
from tests.twins.samples import CONTRACT_TELEMETRY
from twins.messages import Telemetry
from twins.series import SERIES_FIELDS, SeriesPoint, telemetry_points

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_parse_plain_url() -> None:
    """host, port and database; defaults for the rest."""
    assert parse_influx_url("influxdb://tsdb.example:8087/benchfleet") == InfluxSettings(
        base_url="http://tsdb.example:8087", database="benchfleet"
    )


def test_parse_full_url() -> None:
    """HTTPS scheme, credentials (URL-decoded), token, retention policy, timeout, gzip, verify."""
    s = parse_influx_url(
        "influxdbs://bench%40ops:p%2Fss@influx.example/fleet?token=abc&rp=90d&timeout=5&gzip=1&verify=0"
    )
    assert s.base_url == "https://influx.example:8086"
    assert (s.database, s.username, s.password, s.token) == ("fleet", "bench@ops", "p/ss", "abc")
    assert (s.retention_policy, s.timeout_s, s.gzip, s.verify_tls) == ("90d", 5.0, True, False)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("influxdb://host:8086", "database name"),
        ("influxdb://host:8086/", "database name"),
        ("influxdb://host:8086/a/b", "database name"),
        ("influxdb:///db", "no host"),
        ("influxdb://host:99999/db", "out of range"),
        ("influxdb://host/db?tokn=x", "unknown parameter"),
        ("influxdb://host/db?timeout=soon", "timeout"),
        ("influxdb://host/db?gzip=maybe", "gzip"),
        ("http://host:8086/db", "unknown scheme"),
    ],
)
def test_bad_urls_name_the_setting(url: str, why: str) -> None:
    """Every bad URL gives one ValueError naming BENCHFLEET_TSDB, the problem and the expected form."""
    with pytest.raises(ValueError, match="BENCHFLEET_TSDB") as err:
        parse_influx_url(url)
    assert why in str(err.value)
    assert "influxdb://[user:pass@]host:8086/db" in str(err.value)


def test_errors_and_describe_never_show_secrets() -> None:
    """Passwords and tokens are masked in error messages and absent from describe()."""
    with pytest.raises(ValueError, match="BENCHFLEET_TSDB") as err:
        parse_influx_url("influxdb://ops:hunter2@host/db?token=s3cret&bad=1")
    assert "hunter2" not in str(err.value)
    assert "s3cret" not in str(err.value)
    store = InfluxV1Store.from_url("influxdb://ops:hunter2@host:8086/db?token=s3cret")
    assert store.describe() == "influxdb v1 http://host:8086 db=db user=ops token=***"
    store.close()


def test_token_goes_in_the_authorization_header() -> None:
    """InfluxDB 2.x/3.x v1-compatible endpoints authenticate with ``Authorization: Token ...``."""
    store = InfluxV1Store.from_url("influxdb://host/db?token=abc123")
    prepared = store._session().prepare_request(requests.Request("POST", "http://host/write", headers=store._headers))
    assert prepared.headers["Authorization"] == "Token abc123"
    store.close()


def test_line_protocol_of_contract_points() -> None:
    """Ints get the i suffix, booleans true/false, escaping of tag values, ms timestamps, sorted keys."""
    point = SeriesPoint(
        "port",
        {"bench_id": "mostar-01", "municipality": "Široki Brijeg", "port_id": "usb-1", "kind": "usb"},
        {"active": True, "power_w": 7.5, "sessions_today": 14},
        T0 + timedelta(milliseconds=5),
    )
    assert to_line(point) == (
        "port,bench_id=mostar-01,kind=usb,municipality=Široki\\ Brijeg,port_id=usb-1 "
        "active=true,power_w=7.5,sessions_today=14i 1795687200005"
    )
    only_nan = SeriesPoint("m", {}, {"x": float("nan")}, T0)
    assert encode_lines([only_nan, point]).count(b"\n") == 0, "a point without fields is left out"


def test_influxql_literals_are_escaped() -> None:
    """Tag values with quotes cannot break out of the InfluxQL string."""
    assert literal("o'brien\\") == "'o\\'brien\\\\'"


def test_write_and_read_back_odd_tag_values(influxdb: InfluxService) -> None:
    """Tag values with spaces, commas, quotes and non-ASCII letters round-trip through /write and /query."""
    store = InfluxV1Store.from_url(influxdb.url)
    tags = {"bench_id": f"odd-{uuid.uuid4().hex[:8]}", "municipality": "Široki Brijeg, 'Gornji' \"x\" = y"}
    store.write([SeriesPoint("telemetry", tags, {"battery_soc_pct": 55.5}, T0)])
    assert store.last("telemetry", "battery_soc_pct", tags) == (T0, 55.5)
    assert store.last("telemetry", "battery_soc_pct", {**tags, "municipality": "Mostar"}) is None
    store.close()


def test_gzip_and_retention_policy(influxdb: InfluxService) -> None:
    """gzip=1 compresses the body and rp= targets a retention policy, on both /write and /query."""
    influxdb.query(f'CREATE RETENTION POLICY "rp30" ON "{influxdb.database}" DURATION 30d REPLICATION 1', method="POST")
    store = InfluxV1Store.from_url(f"{influxdb.url}?gzip=1&rp=rp30")
    bench = f"gz-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)  # inside the 30-day policy
    store.write([SeriesPoint("telemetry", {"bench_id": bench}, {"load_power_w": 3.0}, now)])
    assert store.last("telemetry", "load_power_w", {"bench_id": bench}) == (now, 3.0)
    body = influxdb.query(
        f"SELECT count(load_power_w) FROM rp30.telemetry WHERE bench_id='{bench}'", db=influxdb.database
    )
    assert body["results"][0]["series"][0]["values"][0][1] == 1
    store.close()


def test_bad_data_is_rejected(influxdb: InfluxService) -> None:
    """A 400 from /write (field type conflict) is TsdbRejected with InfluxDB's reason."""
    store = InfluxV1Store.from_url(influxdb.url)
    measurement = f"typed_{uuid.uuid4().hex[:8]}"
    store.write([SeriesPoint(measurement, {}, {"v": 1.5}, T0)])
    with pytest.raises(TsdbRejected, match="field type conflict"):
        store.write([SeriesPoint(measurement, {}, {"v": "text"}, T0 + timedelta(seconds=1))])
    with pytest.raises(TsdbRejected, match=r"parsing query|expected"):
        store._query("SELEC nonsense")
    store.close()


def test_missing_database_is_unavailable_not_rejected(influxdb: InfluxService) -> None:
    """A missing database is a configuration problem: keep the data (TsdbUnavailable), don't drop it."""
    store = InfluxV1Store.from_url(f"influxdb://127.0.0.1:{influxdb.port}/no_such_db_{uuid.uuid4().hex[:6]}")
    with pytest.raises(TsdbUnavailable, match=r"404.*database not found"):
        store.write([SeriesPoint("telemetry", {}, {"v": 1.0}, T0)])
    store.close()


def test_refused_connection_is_unavailable() -> None:
    """Nothing listening: write and queries raise TsdbUnavailable, ping says False."""
    store = InfluxV1Store.from_url(f"influxdb://127.0.0.1:{free_port()}/benchfleet")
    assert store.ping() is False
    with pytest.raises(TsdbUnavailable, match="ConnectionError"):
        store.write([SeriesPoint("telemetry", {}, {"v": 1.0}, T0)])
    with pytest.raises(TsdbUnavailable):
        store.last("telemetry", "v", {})
    store.close()


def test_ping_and_describe_of_a_running_server(influxdb: InfluxService) -> None:
    """ping() is True against influxd and describe() names URL and database."""
    store = InfluxV1Store.from_url(influxdb.url)
    assert store.ping()
    assert store.describe() == f"influxdb v1 http://127.0.0.1:{influxdb.port} db={influxdb.database}"
    store.close()


def contract_mix(prefix: str, bench_count: int, messages: int) -> list[SeriesPoint]:
    """The points of ``messages`` telemetry samples of the contract: one wide point each."""
    sample = Telemetry.model_validate_json(CONTRACT_TELEMETRY)
    out: list[SeriesPoint] = []
    for i in range(messages):
        one = sample.model_copy(
            update={"bench_id": f"{prefix}-{i % bench_count:05d}", "seq": i, "ts": T0 + timedelta(milliseconds=i)}
        )
        out.extend(telemetry_points(one, "Mostar"))
    return out


def test_batches_of_5000_all_arrive(influxdb: InfluxService) -> None:
    """Batches of 5000 points of the real mix all reach influxd (speed: benchmarks/, docs/performance.md)."""
    store = InfluxV1Store.from_url(influxdb.url)
    prefix = f"perf{uuid.uuid4().hex[:8]}"
    pts = contract_mix(prefix, bench_count=1000, messages=20_000)
    assert len(pts) == 20_000  # one point per sample
    for i in range(0, len(pts), 5000):
        store.write(pts[i : i + 5000])
    store.close()
    body = influxdb.query(f"SELECT count(seq) FROM telemetry WHERE bench_id =~ /^{prefix}-/", db=influxdb.database)
    assert body["results"][0]["series"][0]["values"][0][1] == 20_000


def wave1_points(bench: str, ts: datetime) -> list[SeriesPoint]:
    """One sample in the earlier four-point layout (docs/tsdb.md, "The earlier layout")."""
    tags = {"bench_id": bench, "municipality": "Mostar"}
    fields: dict[str, float | int] = {
        "battery_soc_pct": 81.2, "battery_voltage_v": 13.1, "battery_current_a": -1.2, "battery_temp_c": 21.5,
        "solar_power_w": 88.2, "solar_energy_today_wh": 410.0, "load_power_w": 12.4, "wifi_clients": 7,
        "wifi_sessions_today": 53, "seq": 1,
    }  # fmt: skip
    ports = [("usb-1", "usb", 7.5), ("qi-1", "wireless", 0.0), ("scooter-1", "scooter", 0.0)]
    return [SeriesPoint("telemetry", tags, fields, ts)] + [
        SeriesPoint("port", {**tags, "port_id": p, "kind": k}, {"active": w > 0, "power_w": w, "sessions_today": 3}, ts)
        for p, k, w in ports
    ]


def test_documented_statement_copies_the_earlier_layout(fresh_influxdb: InfluxService) -> None:
    """The InfluxQL of docs/tsdb.md turns wave-1 telemetry fields into the metric fields the charts read."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "tsdb.md").read_text(encoding="utf-8")
    statement = doc.split("## The earlier layout", 1)[-1].split("```sql", 1)[1].split("```", 1)[0]
    store = InfluxV1Store.from_url(fresh_influxdb.url)
    try:
        store.write(
            wave1_points("old-01", T0)
            + telemetry_points(
                Telemetry.model_validate_json(CONTRACT_TELEMETRY).model_copy(
                    update={"bench_id": "new-01", "ts": T0 + timedelta(minutes=1)}
                ),
                "Mostar",
            )
        )
        assert store.last(*SERIES_FIELDS["battery.soc_pct"], {"bench_id": "old-01"}) is None  # not read as such
        fresh_influxdb.query(" ".join(statement.split()), method="POST", db=fresh_influxdb.database)
        tags = {"bench_id": "old-01"}
        assert store.last(*SERIES_FIELDS["battery.soc_pct"], tags) == (T0, 81.2)
        assert store.last(*SERIES_FIELDS["wifi.sessions_today"], tags) == (T0, 53.0)
        assert store.last(*SERIES_FIELDS["ports.power_w"], tags) is None  # port points are not copied
        assert store.last(*SERIES_FIELDS["battery.soc_pct"], {"bench_id": "new-01"}) == (
            T0 + timedelta(minutes=1),
            81.2,
        )
        series = fresh_influxdb.query('SHOW SERIES FROM "telemetry"', db=fresh_influxdb.database)
        keys = sorted(v[0] for v in series["results"][0]["series"][0]["values"])
        assert keys == [
            "telemetry,bench_id=new-01,municipality=Mostar",
            "telemetry,bench_id=old-01,municipality=Mostar",
        ]
    finally:
        store.close()


def test_basic_auth_and_wrong_password(tmp_path: Path) -> None:
    """With auth on, user:pass from the URL logs in; a wrong password is TsdbUnavailable (keep the data)."""
    server = InfluxService(tmp_path / "influxd", admin=("fleet", "s3cr'et pw"))
    server.start()
    try:
        good = InfluxV1Store.from_url(f"influxdb://fleet:s3cr%27et%20pw@127.0.0.1:{server.port}/{server.database}")
        good.write([SeriesPoint("telemetry", {"bench_id": "auth-01"}, {"seq": 1}, T0)])
        assert good.last("telemetry", "seq", {"bench_id": "auth-01"}) == (T0, 1.0)
        good.close()
        bad = InfluxV1Store.from_url(f"influxdb://fleet:wrong@127.0.0.1:{server.port}/{server.database}")
        with pytest.raises(TsdbUnavailable, match="401"):
            bad.write([SeriesPoint("telemetry", {"bench_id": "auth-01"}, {"seq": 2}, T0)])
        assert "wrong" not in bad.describe()
        bad.close()
    finally:
        server.stop()
