"""Modbus TCP driver: typed configuration, codec, read planner, polling client,
device profiles and a simulator (docs/modbus.md)."""
