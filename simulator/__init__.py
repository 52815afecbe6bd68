"""Simulated benches: physics, faults, accelerated clock and the runner of many agents."""
