"""The ``sim://`` driver: memory tags with optional waveforms (``driver.py``)."""

from evsuper.drivers.sim.driver import SimDriver, create_driver

__all__ = ["SimDriver", "create_driver"]
