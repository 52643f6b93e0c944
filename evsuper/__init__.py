"""evsuper — supervision of EV charging sites."""

__version__ = "0.1.0"
