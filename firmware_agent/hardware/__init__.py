"""Bench hardware: device Protocols, the simulated bench and the Victron VE.Direct driver."""
