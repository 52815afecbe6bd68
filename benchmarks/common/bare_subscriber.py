"""The bare reference: a paho subscriber that only ``json.loads`` each message (QoS 1, automatic PUBACK).

    python benchmarks/common/bare_subscriber.py PORT CLIENT_ID TOPIC COUNT

Prints ``time.monotonic()`` (the system-wide clock, comparable across processes) when COUNT messages
have arrived, then exits.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main() -> None:
    """Subscribe, count, print the time of the last message."""
    port, client_id, topic, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    got = 0
    done = threading.Event()

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal got
        json.loads(msg.payload)
        got += 1
        if got == count:
            print(f"{time.monotonic():.6f}", flush=True)
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.on_message = on_message
    client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    done.wait()
    client.disconnect()
    client.loop_stop()


if __name__ == "__main__":
    main()
