"""MQTT transport: the Protocol the agent uses, broker URLs, reconnect backoff and the paho-mqtt client."""
