"""The ``ocpp`` library's camelCase ↔ snake_case payload conversion, with keys cached.

The library converts every key of every message with two regular expressions (and the
other way with a dozen replacements); at 1,000 chargers that was the largest single cost of
the engine loop (py-spy: about 40 % of its samples). OCPP payloads use a small, fixed set of
keys, so each key is converted once by the library's own function and remembered: the
result is the library's, only computed once per key. ``install()`` puts the cached
functions where the library's ``ChargePoint`` looks them up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import ocpp.charge_point as _library

_ORIGINAL_TO_SNAKE: Callable[[Any], Any] = _library.camel_to_snake_case
_ORIGINAL_TO_CAMEL: Callable[[Any], Any] = _library.snake_to_camel_case

# bounded: a vendor's DataTransfer may carry keys of its own
_KEY_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _snake_key(key: str) -> str:
    return next(iter(_ORIGINAL_TO_SNAKE({key: None})))


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _camel_key(key: str) -> str:
    return next(iter(_ORIGINAL_TO_CAMEL({key: None})))


def _converter(convert_key: Callable[[str], str]) -> Callable[[Any], Any]:
    def convert(data: Any) -> Any:
        if isinstance(data, dict):
            return {convert_key(key): convert(value) for key, value in data.items()}
        if isinstance(data, list):
            return [convert(value) for value in data]
        return data

    return convert


camel_to_snake_case = _converter(_snake_key)
snake_to_camel_case = _converter(_camel_key)


def install() -> None:
    """Make the library's charge points use the cached conversions (idempotent)."""
    _library.camel_to_snake_case = camel_to_snake_case
    _library.snake_to_camel_case = snake_to_camel_case
