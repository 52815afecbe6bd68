"""Load shedding: order and hysteresis, as a pure rule and on a bench with a falling battery."""

from __future__ import annotations

from datetime import timedelta

from twins.config import LoadSheddingConfig
from twins.shedding import next_shed

CONFIG = LoadSheddingConfig(scooter_below_pct=40, wifi_below_pct=25, usb_below_pct=15, hysteresis_pct=5)


def _run(socs: list[float]) -> list[list[str]]:
    shed: frozenset = frozenset()
    out = []
    for soc in socs:
        shed = next_shed(shed, soc, CONFIG)
        out.append(sorted(shed))
    return out


def test_falling_battery_sheds_scooter_then_wifi_then_usb() -> None:
    assert _run([50, 39.9, 30, 24.9, 20, 14.9, 5]) == [
        [],
        ["scooter"],
        ["scooter"],
        ["scooter", "wifi"],
        ["scooter", "wifi"],
        ["scooter", "usb", "wifi"],
        ["scooter", "usb", "wifi"],
    ]


def test_recovery_needs_threshold_plus_hysteresis_and_restores_in_reverse() -> None:
    states = _run([10, 16, 19.9, 20, 28, 30, 43, 44.9, 45])
    assert states == [
        ["scooter", "usb", "wifi"],
        ["scooter", "usb", "wifi"],  # above 15 % but below 15 + 5: USB stays off
        ["scooter", "usb", "wifi"],
        ["scooter", "wifi"],  # 20 %: USB back
        ["scooter", "wifi"],
        ["scooter"],  # 30 %: Wi-Fi back
        ["scooter"],
        ["scooter"],
        [],  # 45 %: scooter back
    ]


def test_no_flapping_around_a_threshold() -> None:
    states = _run([41, 39.5, 40.5, 39.8, 41.0, 44.0, 39.0])
    assert states == [[], ["scooter"], ["scooter"], ["scooter"], ["scooter"], ["scooter"], ["scooter"]]


def test_bench_sheds_in_order_and_reports_it(mosquitto, bench_id, clock, tmp_path, harnesses, observers) -> None:
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    hw = h.hardware
    seen: list[tuple[float, bool, bool, bool]] = []
    for soc in (60, 38, 30, 22, 12, 17, 21, 31, 46):
        h.physics.soc_pct = soc
        clock.advance(timedelta(seconds=60))
        h.host.pump()
        seen.append((soc, hw.is_on("scooter-1"), hw.wifi_settings.enabled, hw.is_on("usb-1")))
    assert seen == [
        (60, True, True, True),
        (38, False, True, True),
        (30, False, True, True),
        (22, False, False, True),
        (12, False, False, False),
        (17, False, False, False),
        (21, False, False, True),
        (31, False, True, True),
        (46, True, True, True),
    ]
    assert hw.is_on("qi-1")  # wireless pads are never shed
    h.pump_until(lambda: len(obs.of("telemetry")) >= 10, message="telemetry")
    by_soc = {t["battery"]["soc_pct"]: t for t in obs.of("telemetry")}
    assert by_soc[12]["shed"] == ["scooter", "wifi", "usb"]
    assert by_soc[22]["shed"] == ["scooter", "wifi"]
    assert by_soc[46]["shed"] == []
    scooter_12 = next(p for p in by_soc[12]["ports"] if p["id"] == "scooter-1")
    assert scooter_12 == {**scooter_12, "active": False, "power_w": 0.0}
    assert by_soc[12]["wifi"]["clients"] == 0
    assert ["scooter", "wifi", "usb"] in [r["shed"] for r in obs.of("reported")]


def test_shedding_goes_on_when_the_outbox_fails(tmp_path, clock, harnesses) -> None:
    h = harnesses("mqtt://127.0.0.1:1", "broken-disk", tmp_path, clock)
    h.start(wait_connected=False)
    h.db.close()  # every outbox call now fails, as on a full or damaged disk
    h.physics.soc_pct = 10
    clock.advance(timedelta(seconds=60))
    h.agent.tick(clock.now())  # must not raise
    assert not h.hardware.is_on("scooter-1")
    assert not h.hardware.is_on("usb-1")
    assert h.agent.shed == frozenset({"scooter", "wifi", "usb"})


def test_boot_on_a_low_battery_never_switches_shed_loads_on(tmp_path, clock, harnesses) -> None:
    h = harnesses("mqtt://127.0.0.1:1", "low-boot", tmp_path, clock)
    h.physics.soc_pct = 20
    switched: list[tuple[str, bool]] = []
    original = h.hardware.set_port
    h.hardware.set_port = lambda port_id, on: (switched.append((port_id, on)), original(port_id, on))[1]  # type: ignore[method-assign]
    h.start(wait_connected=False)
    assert ("scooter-1", True) not in switched
    assert not h.hardware.is_on("scooter-1")
    assert not h.hardware.wifi_settings.enabled
    assert h.hardware.is_on("usb-1")
