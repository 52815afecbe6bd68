"""Writes the VE.Direct captures used by the driver tests (run once; the .bin files are committed).

Blocks follow Victron's "VE.Direct Protocol" text-mode description (labels, units, field order of a
SmartSolar MPPT 75/15 and a BMV-712 with temperature sensor), with HEX-protocol messages interleaved
as real devices do, and one block per file whose checksum is deliberately wrong.
"""

from __future__ import annotations

from pathlib import Path

from firmware_agent.hardware.vedirect_protocol import encode_block

HERE = Path(__file__).parent


def mppt(v_mv: int, i_ma: int, vpv_mv: int, ppv_w: int, cs: int, h20: int, il_ma: int) -> dict[str, str]:
    """A SmartSolar MPPT 75/15 text block."""
    return {
        "PID": "0xA053", "FW": "159", "SER#": "HQ2132ABCDE", "V": str(v_mv), "I": str(i_ma),
        "VPV": str(vpv_mv), "PPV": str(ppv_w), "CS": str(cs), "MPPT": "2", "OR": "0x00000000",
        "ERR": "0", "LOAD": "ON", "IL": str(il_ma), "H19": "12345", "H20": str(h20), "H21": "152",
        "H22": "38", "H23": "160", "HSDS": "112",
    }  # fmt: skip


def bmv_main(v_mv: int, i_ma: int, soc_permille: int, t_c: int) -> dict[str, str]:
    """The first block of a BMV-712 (live values)."""
    return {
        "PID": "0xA381", "V": str(v_mv), "T": str(t_c), "I": str(i_ma), "P": str(round(v_mv * i_ma / 1e6)),
        "CE": "-24000", "SOC": str(soc_permille), "TTG": "1440", "Alarm": "OFF", "Relay": "OFF",
        "AR": "0", "BMV": "712 Smart", "FW": "0408", "MON": "0",
    }  # fmt: skip


BMV_HISTORY = {
    "H1": "-102345", "H2": "-45678", "H3": "-98765", "H4": "12", "H5": "3", "H6": "-2345678",
    "H7": "11650", "H8": "14420", "H9": "3600", "H10": "5", "H11": "0", "H12": "0", "H15": "0",
    "H16": "0", "H17": "8812", "H18": "10123",
}  # fmt: skip

HEX_PING_REPLY = b":51641F9\n"
HEX_ASYNC = b":A0102000543\n"


def corrupt(block: bytes) -> bytes:
    """Flip one digit of a value (as line noise would) so the checksum no longer adds up."""
    at = block.index(b"\tV\t") if b"\tV\t" in block else block.index(b"V\t") + 2
    digit = block[at + 1]
    return block[: at + 1] + bytes([digit ^ 0x01]) + block[at + 2 :]


def main() -> None:
    """Write mppt.bin and bmv.bin."""
    mppt_stream = b"".join(
        [
            b"6\r\nHSDS\t112\r\nChecksum\t\x07",  # tail of a block already underway when reading starts
            encode_block(mppt(13120, 2300, 36520, 38, 3, 41, 800)),
            HEX_ASYNC,
            encode_block(mppt(13150, 2500, 36810, 41, 3, 42, 820)),
            corrupt(encode_block(mppt(13990, 9900, 36810, 99, 3, 99, 820))),
            encode_block(mppt(13180, 2700, 37020, 45, 3, 43, 790)),
            HEX_PING_REPLY,
        ]
    )
    bmv_stream = b"".join(
        [
            encode_block(bmv_main(13100, -1200, 812, 21)),
            encode_block(BMV_HISTORY),
            corrupt(encode_block(bmv_main(12000, -9000, 100, 21))),
            HEX_ASYNC,
            encode_block(bmv_main(13110, -1100, 810, 22)),
        ]
    )
    (HERE / "vedirect_mppt.bin").write_bytes(mppt_stream)
    (HERE / "vedirect_bmv.bin").write_bytes(bmv_stream)


if __name__ == "__main__":
    main()
