"""Pure core of BenchFleet: the MQTT contract, the digital twin model and derived health (no I/O)."""
