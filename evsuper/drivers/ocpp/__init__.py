"""The OCPP central system. Importing it makes the ``ocpp`` library convert payload keys
through a cache (``keycase``), for the central system and the simulated bollards alike."""

from evsuper.drivers.ocpp import keycase

keycase.install()
