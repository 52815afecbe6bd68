"""A paho-mqtt client that reads its socket in large chunks and writes what one loop pass queued in one send.

paho reads every packet with three or four ``recv`` calls (the command byte, each byte of the remaining
length, then the body), one ``select`` per packet, and sends each queued packet, a 4-byte PUBACK included,
with its own ``send``; an acknowledgement queued from another thread also writes a wake-up byte to paho's
socket pair. An ingest worker draining a backlog spent about half of a bare subscriber's CPU in those
system calls (benchmarks/ingest_throughput.py, docs/performance.md). This client keeps paho's protocol
handling and only changes how bytes move:

- reads: one ``recv`` of up to ``READ_CHUNK`` bytes feeds every packet already in it; ``pending()`` tells
  paho's loop that bytes are waiting (the mechanism paho uses for TLS records), so it does not block in
  ``select`` while whole packets sit in memory;
- writes: the packets one ``loop_write`` pass takes from paho's queue are gathered and sent together;
- ``ack_many``: a run of PUBACKs queued with one wake-up of the network thread instead of one per message.

Only for clients driven by paho's own loop (``loop_start``/``loop_forever``): a caller running its own
selector on ``socket()`` would not see bytes already buffered here.
"""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

#: Bytes asked of the kernel per read: ~100 telemetry messages; below glibc's mmap threshold.
READ_CHUNK = 64 * 1024
#: Packets handled from memory per loop pass before paho's loop gets to write and keep alive again.
MAX_PACKETS_PER_PASS = 5000
#: How long closing may wait for the kernel to take what was gathered (a dead peer must not hang a disconnect).
CLOSE_FLUSH_TIMEOUT_S = 2.0
_PUBACK = struct.Struct("!BBH")  # paho's PUBACK: the fixed header, remaining length 2, the message id
_WAKE = b"0"  # paho's own wake-up byte for its socket pair


class BufferedSocket:
    """The client's socket with a read buffer and a write buffer; everything else is the socket's own."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._rbuf = bytearray()
        self._wbuf = bytearray()

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes: from memory, or one large read of the socket when memory is empty."""
        buf = self._rbuf
        if not buf:
            data: bytes = self._sock.recv(READ_CHUNK)  # BlockingIOError / SSLWantRead reach paho as before
            if len(data) <= size:
                return data
            buf += data
        out = bytes(buf[:size])
        del buf[:size]  # bytearray drops a prefix without moving the rest
        return out

    def pending(self) -> int:
        """Bytes read but not yet handed to paho (plus a TLS socket's decrypted, unread bytes)."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._rbuf) + int(inner)

    @property
    def rbuf(self) -> bytearray:
        """Bytes read and not yet handed on (the client takes whole packets from it)."""
        return self._rbuf

    def whole_packet(self) -> tuple[int, int, int] | None:
        """(first byte, body start, end) of the next packet if it is whole in memory; None otherwise."""
        buf = self._rbuf
        n = len(buf)
        length, mult, i = 0, 1, 1
        while True:
            if i >= n or i > 4:  # not all here yet (or a length longer than MQTT allows: paho's to judge)
                return None
            byte = buf[i]
            length += (byte & 127) * mult
            mult *= 128
            i += 1
            if not byte & 128:
                break
        end = i + length
        return (buf[0], i, end) if end <= n else None

    def send(self, data: bytes | bytearray) -> int:
        """Gather ``data``; ``flush`` sends it."""
        self._wbuf += data
        return len(data)

    def unsent(self) -> int:
        """Bytes gathered and not yet taken by the kernel."""
        return len(self._wbuf)

    def flush(self) -> None:
        """Send what was gathered, as far as the kernel takes it now (the rest waits for writability)."""
        if not self._wbuf:
            return
        try:
            sent = self._sock.send(self._wbuf)
        except BlockingIOError:
            return
        del self._wbuf[:sent]

    def close(self) -> None:
        """Send what was gathered, then close: paho closes the socket right after it "wrote" DISCONNECT,
        so the PUBACKs gathered in the same pass, and the DISCONNECT itself, would otherwise be lost."""
        if self._wbuf:
            with contextlib.suppress(OSError):
                self._sock.settimeout(CLOSE_FLUSH_TIMEOUT_S)
                self._sock.sendall(bytes(self._wbuf))
            self._wbuf.clear()
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        # fileno, setblocking, close, ...: the socket's own (select() takes this object through fileno()).
        return getattr(self._sock, name)


#: ``on_publish_raw(topic, payload, mid, qos, retain)``: a QoS 0/1 PUBLISH as it arrived.
RawPublishHandler = Callable[[str, bytes, int, int, bool], None]


class BufferedClient(mqtt.Client):
    """paho's client over a BufferedSocket, with ``ack_many``; same callbacks, same protocol handling.

    ``on_publish_raw``, when set, takes every QoS 0 and QoS 1 PUBLISH (MQTT 3.1.1) whole from the read
    buffer instead of paho's reader: no MQTTMessage, no per-byte reads, no topic matcher (callbacks added
    with ``message_callback_add`` are not consulted; ``on_message`` still gets QoS 2 and MQTT 5 messages).
    paho's per-message work was ~30 µs of an ingest worker's ~110 µs (docs/performance.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._quiet = threading.local()  # set while ack_many queues PUBACKs: no wake-up per packet
        self.on_publish_raw: RawPublishHandler | None = None

    def _packet_read(self) -> MQTTErrorCode:
        sock = self._sock
        if self.on_publish_raw is not None and self._in_packet["command"] == 0 and isinstance(sock, BufferedSocket):
            found = sock.whole_packet()
            if found is not None:
                header, start, end = found
                publish = self._raw_publish(header, sock.rbuf, start, end)
                if publish is not None:
                    del sock.rbuf[:end]
                    self._deliver_raw(*publish)
                    return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._packet_read()

    def _handle_publish(self) -> MQTTErrorCode:
        # A PUBLISH paho read itself (it was not whole in memory): still to on_publish_raw when set.
        if self.on_publish_raw is None:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        publish = self._raw_publish(self._in_packet["command"], packet, 0, len(packet))
        if publish is None:
            return super()._handle_publish()
        self._deliver_raw(*publish)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _raw_publish(
        self, header: int, buf: bytes | bytearray, start: int, end: int
    ) -> tuple[str, bytes, int, int, bool] | None:
        """(topic, payload, mid, qos, retain) of a well-formed QoS 0/1 MQTT 3.1.1 PUBLISH in ``buf[start:end]``;
        None for anything else (paho's own handling, malformed packets included)."""
        qos = (header & 0x06) >> 1
        if header & 0xF0 != mqtt.PUBLISH or qos > 1 or self._protocol == mqtt.MQTTv5 or end - start < 2:
            return None
        topic_end = start + 2 + ((buf[start] << 8) | buf[start + 1])
        body = topic_end + 2 * qos  # QoS 1 carries a packet id
        if topic_end == start + 2 or body > end:
            return None  # empty topic or lengths that do not fit
        try:
            topic = bytes(buf[start + 2 : topic_end]).decode()
        except UnicodeDecodeError:
            return None
        mid = ((buf[topic_end] << 8) | buf[topic_end + 1]) if qos else 0
        return topic, bytes(buf[body:end]), mid, qos, bool(header & 0x01)

    def _deliver_raw(self, topic: str, payload: bytes, mid: int, qos: int, retain: bool) -> None:
        handler = self.on_publish_raw
        assert handler is not None
        with self._in_callback_mutex:
            try:
                handler(topic, payload, mid, qos, retain)
            except Exception as err:
                self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_publish_raw: %s", err)
                if not self.suppress_exceptions:
                    raise
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()  # paho's keepalive clock
        if qos == 1 and not self._manual_ack:
            self._send_puback(mid)

    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read packets while whole ones are waiting in memory (paho handles one per ``select``)."""
        rc = super().loop_read(max_packets)
        for _ in range(MAX_PACKETS_PER_PASS):
            sock = self._sock
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, BufferedSocket) or not sock.pending():
                break
            rc = super().loop_read(max_packets)
        return rc

    def loop_write(self) -> MQTTErrorCode:
        """paho's write pass, then one send of everything it gathered."""
        rc = super().loop_write()
        sock = self._sock
        if isinstance(sock, BufferedSocket):
            try:
                sock.flush()
            except OSError:
                return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
        return rc

    def want_write(self) -> bool:
        """paho's queue is not empty, or gathered bytes still wait for the kernel."""
        sock = self._sock
        return super().want_write() or (isinstance(sock, BufferedSocket) and sock.unsent() > 0)

    def ack_many(self, messages: Iterable[tuple[int, int]]) -> None:
        """Acknowledge ``(mid, qos)`` pairs in order, waking the network thread once.

        The PUBACKs of QoS 1 messages (what ``ack`` sends for each: ``!BBH`` PUBACK, 2, mid, in MQTT 3.1.1
        and 5 alike) go out as ONE entry of paho's queue: through ``ack`` each was a packet of its own, four
        calls to queue and one pass of paho's writer (a tenth of an ingest worker's CPU was paho's)."""
        if not self._manual_ack:
            return  # paho acknowledged each on arrival
        pubacks = bytearray()
        self._quiet.on = True
        try:
            for mid, qos in messages:
                if qos == 1:
                    pubacks += _PUBACK.pack(mqtt.PUBACK, 2, mid)
                    continue
                if pubacks:  # keep the order of the acknowledgements
                    self._packet_queue(mqtt.PUBACK, bytes(pubacks), 0, 0)
                    pubacks.clear()
                self.ack(mid, qos)
            if pubacks:
                self._packet_queue(mqtt.PUBACK, bytes(pubacks), 0, 0)
        finally:
            self._quiet.on = False
        self._wake()

    def _packet_queue(
        self,
        command: int,
        packet: bytes | bytearray,
        mid: int,
        qos: int,
        info: mqtt.MQTTMessageInfo | None = None,
    ) -> MQTTErrorCode:
        if not getattr(self._quiet, "on", False):
            return super()._packet_queue(command, packet, mid, qos, info)
        # paho's own queue entry (see Client._packet_queue), without its wake-up write per packet.
        self._out_packet.append(
            {"command": command, "mid": mid, "qos": qos, "pos": 0, "to_process": len(packet), "packet": packet,
             "info": info}
        )  # fmt: skip
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _wake(self) -> None:
        pair = self._sockpairW
        if pair is not None:
            with contextlib.suppress(BlockingIOError):  # already full of wake-ups: the loop wakes anyway
                pair.send(_WAKE)
        if self._thread is None:  # no network thread: write now, as paho does for a queued packet
            self.loop_write()
