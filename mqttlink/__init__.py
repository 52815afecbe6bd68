"""paho-mqtt client setup shared by the fleet, the bench agent and the simulator (imports only twins and paho)."""
