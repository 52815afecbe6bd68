"""VE.Direct driver on a real pseudo-terminal pair, fed with recorded frames (bad checksums included)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_agent.hardware.base import HardwareError
from firmware_agent.hardware.factory import build_bench, parse_hardware_spec
from firmware_agent.hardware.vedirect import VeDirectDevices, VeDirectPort, open_vedirect, soc_from_voltage
from firmware_agent.hardware.vedirect_protocol import VeDirectParser, encode_block
from tests.waiting import wait_until

DATA = Path(__file__).parent / "data"


class Pty:
    """A pseudo-terminal pair: the test writes device bytes to ``master``; the driver opens ``path``."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        """Write like the device would."""
        os.write(self.master, data)

    def close(self) -> None:
        """Close both ends."""
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def ptys() -> Iterator[list[Pty]]:
    """Two pty pairs (BMV and MPPT)."""
    pairs = [Pty(), Pty()]
    yield pairs
    for p in pairs:
        p.close()


def test_parser_verifies_checksums_and_skips_hex() -> None:
    parser = VeDirectParser()
    blocks = parser.feed((DATA / "vedirect_mppt.bin").read_bytes())
    assert [b.fields["V"] for b in blocks] == ["13120", "13150", "13180"]
    assert parser.stats.checksum_errors == 2  # the partial block at start and the corrupted one
    assert parser.stats.hex_messages == 2
    assert "99" not in [b.fields["PPV"] for b in blocks]


def test_parser_handles_bytes_one_at_a_time() -> None:
    data = (DATA / "vedirect_bmv.bin").read_bytes()
    parser = VeDirectParser()
    blocks = [b for i in range(len(data)) for b in parser.feed(data[i : i + 1])]
    assert [b.fields.get("SOC") for b in blocks] == ["812", None, "810"]
    assert "H17" in blocks[1].fields
    assert parser.stats.checksum_errors == 1


def test_overlong_label_is_dropped_and_parser_resyncs() -> None:
    parser = VeDirectParser()
    garbage = b"\r\n" + b"X" * 40 + b"\t1\r\nChecksum\t\x00"
    good = encode_block({"V": "12000", "PPV": "3"})
    assert [b.fields for b in parser.feed(garbage + good)] == [{"V": "12000", "PPV": "3"}]
    assert parser.stats.overruns == 1
    assert parser.stats.checksum_errors == 1


def test_mppt_and_bmv_on_two_serial_ports(ptys: list[Pty]) -> None:
    bmv, mppt = ptys
    devices = open_vedirect([bmv.path, mppt.path])
    try:
        with pytest.raises(HardwareError, match=r"no valid VE\.Direct frame"):
            devices.read_solar()
        bmv.send((DATA / "vedirect_bmv.bin").read_bytes())
        mppt.send((DATA / "vedirect_mppt.bin").read_bytes())
        # Both ports are read by their own threads: wait until each has parsed its frames (a loaded machine
        # may be done with one port before the other).
        battery = wait_until(
            lambda: _read_when(devices, lambda d: d.read_battery().soc_pct == 81.0 and d.read_solar().power_w == 45.0)
        )
        assert battery.voltage_v == 13.11
        assert battery.current_a == -1.1
        assert battery.temp_c == 22.0
        solar = devices.read_solar()
        assert solar.power_w == 45.0
        assert solar.energy_today_wh == 430.0  # H20 = 43 x 0.01 kWh
        assert devices.read_load().power_w == round(13.18 * 0.79, 2)  # MPPT load output: V x IL
        stats = devices.stats
        assert stats[bmv.path].checksum_errors == 1
        assert stats[mppt.path].checksum_errors == 2
        assert stats[mppt.path].blocks == 3
    finally:
        devices.close()


def _read_when(devices: VeDirectDevices, ready):  # type: ignore[no-untyped-def]
    try:
        return devices.read_battery() if ready(devices) else None
    except HardwareError:
        return None


def test_mppt_alone_estimates_charge_from_voltage(ptys: list[Pty]) -> None:
    mppt = ptys[0]
    port = VeDirectPort(mppt.path)
    devices = VeDirectDevices([port], default_temp_c=18.0)
    try:
        mppt.send((DATA / "vedirect_mppt.bin").read_bytes())
        wait_until(lambda: port.poll() or port.fields.get("V") == "13180")
        battery = devices.read_battery()
        assert battery.voltage_v == 13.18
        assert battery.soc_pct == round(soc_from_voltage(13.18), 1)
        assert 40 < battery.soc_pct < 70
        assert battery.temp_c == 18.0  # the MPPT has no temperature sensor
    finally:
        devices.close()


def test_bad_frame_does_not_change_readings(ptys: list[Pty]) -> None:
    mppt = ptys[0]
    devices = open_vedirect([mppt.path])
    try:
        mppt.send(encode_block({"V": "13000", "I": "1000", "PPV": "20", "H20": "5"}))
        wait_until(lambda: _read_when(devices, lambda d: d.read_solar().power_w == 20.0))
        block = bytearray(encode_block({"V": "13000", "I": "1000", "PPV": "90", "H20": "5"}))
        block[block.index(b"90")] = ord("8")  # line noise: PPV 80, checksum no longer matches
        mppt.send(bytes(block))
        wait_until(lambda: devices.read_solar() and devices.stats[mppt.path].checksum_errors == 1)
        assert devices.read_solar().power_w == 20.0
    finally:
        devices.close()


def test_missing_serial_port_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match=r"cannot open VE\.Direct port"):
        open_vedirect([str(tmp_path / "ttyUSB9")])


def test_vedirect_bench_from_spec(ptys: list[Pty], clock) -> None:
    bench = build_bench(parse_hardware_spec(f"vedirect:{ptys[0].path},{ptys[1].path}"), clock)
    try:
        ptys[0].send((DATA / "vedirect_bmv.bin").read_bytes())
        wait_until(lambda: _read_when(bench.battery, lambda d: d.read_battery().soc_pct == 81.0))  # type: ignore[arg-type]
        assert bench.info.driver == "vedirect+virtual-io"
        bench.ports.set_port("usb-1", False)
        assert not next(p for p in bench.ports.read_ports() if p.id == "usb-1").active
    finally:
        bench.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("serial", "unknown hardware"),
        ("vedirect:", "give one or two serial ports"),
        ("vedirect:/dev/a,/dev/b,/dev/c", "one or two serial ports"),
        ("vedirect:ttyUSB0", "absolute paths"),
    ],
)
def test_bad_hardware_spec_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hardware_spec(text)


def test_good_hardware_specs() -> None:
    assert parse_hardware_spec("sim").driver == "sim"
    assert parse_hardware_spec("vedirect:/dev/ttyUSB0").ports == ("/dev/ttyUSB0",)
    assert parse_hardware_spec("vedirect:/dev/ttyUSB0,/dev/ttyUSB1").ports == ("/dev/ttyUSB0", "/dev/ttyUSB1")
