"""Bound objects: a library object whose view follows live values.

Charge points follow the ``OverviewModel`` row of their charger, as the faceplate does
(the model already turns tag batches into ``ChargerState``; ``charge_point_view`` makes the
view from it, so a delegate can paint the same object without a widget). Devices follow
tag paths named per project: feed them the bridge's batches
(``bridge.tagsChanged.connect(meter.apply)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

from PySide6.QtWidgets import QWidget

from evsuper.core.domain import CommState
from evsuper.core.tags import Quality, Sample, TagPath
from evsuper.hmi.library.base import ObjectSize
from evsuper.hmi.library.charger import (
    BollardView,
    ChargePointView,
    ConnectorPoint,
    Current,
)
from evsuper.hmi.library.equipment import Breaker, DeviceView
from evsuper.hmi.library.widget import LibraryObject
from evsuper.hmi.models.overview import ChargerState, OverviewModel
from evsuper.hmi.models.table import Index
from evsuper.hmi.quality import worst
from evsuper.project.model import ChargerKind

log = logging.getLogger(__name__)


def charge_point_view(
    state: ChargerState,
    form: type[ChargePointView] = BollardView,
    *,
    connector_id: int | None = None,
    current: Current | None = None,
    out_of_service: bool = False,
) -> ChargePointView:
    """The view of a charger (or of one connector: ``connector_id``) from its live state;
    its name is the project's label (else the id), AC / DC the project's kind unless given."""
    connectors = tuple(
        ConnectorPoint(
            c.connector_id,
            c.status,
            c.power_kw,
            state.max_power_kw,
            c.energy_kwh,
            c.soc,
            c.error_code,
            worst(q.quality for q in c.qualities.values()),
        )
        for c in state.connectors
        if connector_id is None or c.connector_id == connector_id
    )
    name = state.name if connector_id is None else f"{state.name} · {connector_id}"
    if current is None:
        current = Current.DC if state.kind is ChargerKind.DC else Current.AC
    return form(name, connectors, current, state.comm, state.status, out_of_service, state.alarm)


class BoundChargePoint(LibraryObject[ChargePointView]):
    """A bollard, wallbox or connector showing the live state of one charger of the model."""

    def __init__(
        self,
        model: OverviewModel,
        charger_id: str,
        form: type[ChargePointView] = BollardView,
        *,
        connector_id: int | None = None,
        current: Current | None = None,
        size: ObjectSize = ObjectSize.TILE,
        parent: QWidget | None = None,
    ) -> None:
        self._model = model
        self._charger_id = charger_id
        self._form = form
        self._connector_id = connector_id
        self._current = current
        self._out_of_service = False
        super().__init__(self._build(), size, parent)
        model.dataChanged.connect(self._on_data_changed)
        model.rowsInserted.connect(self._refresh)

    @property
    def charger_id(self) -> str:
        return self._charger_id

    def set_out_of_service(self, out_of_service: bool) -> None:
        """Show the charger taken out of service for maintenance (an operator's decision)."""
        self._out_of_service = out_of_service
        self._refresh()

    def _build(self) -> ChargePointView:
        state = self._model.state(self._charger_id)
        if state is None:  # not (yet) a row: never seen
            number = self._connector_id or 1
            return self._form(
                self._charger_id,
                (ConnectorPoint(number),),
                self._current or Current.AC,
                CommState.UNKNOWN,
            )
        return charge_point_view(
            state,
            self._form,
            connector_id=self._connector_id,
            current=self._current,
            out_of_service=self._out_of_service,
        )

    def _on_data_changed(self, top_left: Index, bottom_right: Index) -> None:
        row = self._model.row_of(self._charger_id)
        if row is not None and top_left.row() <= row <= bottom_right.row():
            self._refresh()

    def _refresh(self) -> None:
        self.set_view(self._build())


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


# View field → converter of a tag value; the other fields are numbers.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "comm": lambda v: CommState.UNKNOWN if v is None else CommState(v),
    "fault": _optional(str),
    "out_of_service": bool,
    "alarm": lambda v: v,
    "breaker": Breaker,
}


D = TypeVar("D", bound=DeviceView)


class BoundDevice(LibraryObject[D]):
    """A device whose view fields follow tags: ``tags`` maps a field name to a tag path."""

    def __init__(
        self,
        view: D,
        tags: Mapping[str, TagPath],
        size: ObjectSize = ObjectSize.TILE,
        parent: QWidget | None = None,
    ) -> None:
        unknown = set(tags) - {f.name for f in fields(view)}
        if unknown:
            raise ValueError(f"{type(view).__name__} has no field {', '.join(sorted(unknown))}")
        super().__init__(view, size, parent)
        self._tags = dict(tags)
        self._qualities: dict[str, Quality] = {}  # per bound field, of its last sample

    def apply(self, changes: Mapping[TagPath, Sample]) -> None:
        """Slot for ``EngineBridge.tagsChanged``: take the bound tags out of a batch; the
        view's ``quality`` is the worst of the bound values' last samples."""
        updates: dict[str, Any] = {}
        for name, path in self._tags.items():
            sample = changes.get(path)
            if sample is None:
                continue
            self._qualities[name] = sample.quality
            updates["quality"] = worst(self._qualities.values())
            try:
                updates[name] = _CONVERTERS.get(name, _optional(float))(sample.value)
            except (TypeError, ValueError):
                log.warning("tag %s: unexpected value %r", path, sample.value)
        if updates:
            self.set_view(replace(self.view, **updates))
