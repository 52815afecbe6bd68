"""Victron VE.Direct text protocol: a byte-fed block parser with checksum verification.

A block is a run of ``\\r\\nLABEL\\tVALUE`` fields ending in ``\\r\\nChecksum\\t<byte>``; all bytes of the
block, the checksum byte included, sum to 0 modulo 256. Devices interleave HEX-protocol messages
(``:...\\n``) asynchronously; those bytes are skipped and left out of the sum, as in Victron's reference
parser. Blocks with a bad checksum (including the half block seen when reading starts mid-stream) are
dropped and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, auto

# The protocol limits labels to 9 and values to 33 characters; longer runs mean line noise.
MAX_LABEL = 9
MAX_VALUE = 33


class _State(Enum):
    WAIT_HEADER = auto()
    IN_LABEL = auto()
    IN_VALUE = auto()
    IN_CHECKSUM = auto()
    HEX = auto()


@dataclass(frozen=True, slots=True)
class VeBlock:
    """One verified block: its fields by label, values as the device sent them."""

    fields: Mapping[str, str]

    def number(self, label: str) -> float | None:
        """The value of ``label`` as a number, or None when absent or not numeric (e.g. ``---``)."""
        text = self.fields.get(label)
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            return None


@dataclass
class ParserStats:
    """Counters of what the parser saw."""

    blocks: int = 0
    checksum_errors: int = 0
    hex_messages: int = 0
    overruns: int = 0


@dataclass
class VeDirectParser:
    """Feed bytes as they arrive; complete, verified blocks come out."""

    stats: ParserStats = field(default_factory=ParserStats)
    _state: _State = _State.WAIT_HEADER
    _hex_return: _State = _State.WAIT_HEADER
    _sum: int = 0
    _label: bytearray = field(default_factory=bytearray)
    _value: bytearray = field(default_factory=bytearray)
    _fields: dict[str, str] = field(default_factory=dict)
    _corrupt: bool = False

    def feed(self, data: bytes) -> list[VeBlock]:
        """Consume ``data`` and return the blocks completed by it."""
        blocks: list[VeBlock] = []
        for byte in data:
            block = self._step(byte)
            if block is not None:
                blocks.append(block)
        return blocks

    def _step(self, byte: int) -> VeBlock | None:
        if byte == 0x3A and self._state not in (_State.IN_CHECKSUM, _State.HEX):  # ':'
            self._hex_return, self._state = self._state, _State.HEX
            return None
        if self._state is _State.HEX:
            if byte == 0x0A:
                self.stats.hex_messages += 1
                self._state = self._hex_return
            return None
        self._sum = (self._sum + byte) & 0xFF
        handler = _HANDLERS[self._state]
        return handler(self, byte)

    def _wait_header(self, byte: int) -> None:
        if byte == 0x0A:
            self._state = _State.IN_LABEL
        return None

    def _in_label(self, byte: int) -> None:
        if byte == 0x09:
            self._state = _State.IN_CHECKSUM if self._label == b"Checksum" else _State.IN_VALUE
        elif len(self._label) >= MAX_LABEL:
            self._overrun()
        else:
            self._label.append(byte)
        return None

    def _in_value(self, byte: int) -> None:
        if byte == 0x0D:
            self._fields[self._label.decode("ascii", "replace")] = self._value.decode("ascii", "replace")
            self._label.clear()
            self._value.clear()
            self._state = _State.WAIT_HEADER
        elif len(self._value) >= MAX_VALUE:
            self._overrun()
        else:
            self._value.append(byte)
        return None

    def _in_checksum(self, byte: int) -> VeBlock | None:
        ok = self._sum == 0 and not self._corrupt
        fields = self._fields
        self._fields, self._sum, self._corrupt = {}, 0, False
        self._label.clear()
        self._value.clear()
        self._state = _State.WAIT_HEADER
        if not ok:
            self.stats.checksum_errors += 1
            return None
        self.stats.blocks += 1
        return VeBlock(fields)

    def _overrun(self) -> None:
        # Keep summing until the Checksum line so the block is counted once as bad, then resync.
        self.stats.overruns += 1
        self._corrupt = True
        self._label.clear()
        self._value.clear()
        self._state = _State.WAIT_HEADER


_HANDLERS = {
    _State.WAIT_HEADER: VeDirectParser._wait_header,
    _State.IN_LABEL: VeDirectParser._in_label,
    _State.IN_VALUE: VeDirectParser._in_value,
    _State.IN_CHECKSUM: VeDirectParser._in_checksum,
}


def encode_block(fields: Mapping[str, str]) -> bytes:
    """Build a valid text-protocol block from fields (for test data and device emulators)."""
    body = b"".join(b"\r\n" + k.encode("ascii") + b"\t" + v.encode("ascii") for k, v in fields.items())
    body += b"\r\nChecksum\t"
    return body + bytes([(-sum(body)) & 0xFF])
