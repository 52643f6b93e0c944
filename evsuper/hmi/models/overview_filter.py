"""What the overview shows of N chargers: site, area, state and text filters over the model.

``StateFilter`` names the states an operator filters on (and counts); a charger may be in
several (charging on one connector, available on the other, in alarm). ``OverviewFilter``
is the proxy the grid shows; its ``counts`` are per state for the rows the site, area and
text select (the state filter itself left aside, so the counts tell what a click shows).
"""

from __future__ import annotations

import functools
from enum import Enum

from PySide6.QtCore import QSortFilterProxyModel, Signal

from evsuper.core.domain import ChargerCondition, charger_condition
from evsuper.hmi.models.overview import ChargerState, OverviewModel
from evsuper.hmi.models.table import Index


class StateFilter(Enum):
    """A state the operator filters on; the value is its label."""

    ALL = "All"
    CHARGING = "Charging"
    AVAILABLE = "Available"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    OFFLINE = "Offline"
    NOT_SEEN = "Not seen"
    IN_ALARM = "In alarm"

    @property
    def bit(self) -> int:
        return _BITS[self]

    def matches(self, state: ChargerState) -> bool:
        return bool(state_flags(state) & self.bit)


_BITS = {f: 1 << i for i, f in enumerate(StateFilter)}
_CONDITIONS = {
    ChargerCondition.CHARGING: _BITS[StateFilter.CHARGING],
    ChargerCondition.AVAILABLE: _BITS[StateFilter.AVAILABLE],
    ChargerCondition.UNAVAILABLE: _BITS[StateFilter.UNAVAILABLE],
    ChargerCondition.FAULTED: _BITS[StateFilter.FAULTED],
    ChargerCondition.OFFLINE: _BITS[StateFilter.OFFLINE],
    ChargerCondition.NOT_SEEN: _BITS[StateFilter.NOT_SEEN],
}


def state_flags(s: ChargerState) -> int:
    """The ``StateFilter`` bits of a charger (``ALL`` always)."""
    flags = _BITS[StateFilter.ALL]
    if s.alarm is not None:
        flags |= _BITS[StateFilter.IN_ALARM]
    return flags | _condition_bits(
        charger_condition(s.comm, s.status, [c.status for c in s.connectors])
    )


@functools.cache
def _condition_bits(condition: ChargerCondition) -> int:
    return sum(bit for member, bit in _CONDITIONS.items() if member in condition)


def matches_text(state: ChargerState, text: str) -> bool:
    """``text`` (lower case) is part of the id, the label or a running session's badge."""
    if text in state.charger_id.lower() or text in state.label.lower():
        return True
    return any(c.id_tag is not None and text in c.id_tag.lower() for c in state.connectors)


class OverviewFilter(QSortFilterProxyModel):
    """The model's rows of one site / area, in one state, matching a text (all optional).

    Re-filters the rows each batch changes (dynamic filtering). The counts are kept per
    row (its state bits, whether site, area and text select it) and updated for the rows
    a batch changed, once per batch: ``countsChanged`` then follows if they differ.
    """

    countsChanged = Signal()

    def __init__(self, model: OverviewModel) -> None:
        super().__init__()
        self._model = model
        self._site = ""  # "" = every site
        self._area = ""  # "" = every area
        self._state = StateFilter.ALL
        self._text = ""
        self._flags: list[int] = []  # per source row: its state bits, 0 if not selected
        self._dirty: set[int] = set()  # source rows changed since the last count
        self._counts = dict.fromkeys(StateFilter, 0)
        self.setSourceModel(model)
        self.setDynamicSortFilter(True)
        model.dataChanged.connect(self._on_data_changed)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsChanged.connect(self._count_dirty)
        self._count_all()

    # ---- filters

    def set_site(self, site: str) -> None:
        self._change(site=site)

    def set_area(self, area: str) -> None:
        self._change(area=area)

    def set_state(self, state: StateFilter) -> None:
        self._change(state=state)

    def set_text(self, text: str) -> None:
        self._change(text=text.strip().lower())

    def _change(
        self,
        *,
        site: str | None = None,
        area: str | None = None,
        state: StateFilter | None = None,
        text: str | None = None,
    ) -> None:
        self.beginFilterChange()
        self._site = self._site if site is None else site
        self._area = self._area if area is None else area
        self._state = self._state if state is None else state
        self._text = self._text if text is None else text
        if state is None:  # what is selected changed: count again
            self._count_all()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        state = self._model.state_at(source_row)
        return self._selects(state) and bool(state_flags(state) & self._state.bit)

    def _selects(self, state: ChargerState) -> bool:
        """Site, area and text (the state filter aside)."""
        return (
            (not self._site or state.site == self._site)
            and (not self._area or state.area == self._area)
            and (not self._text or matches_text(state, self._text))
        )

    # ---- rows and counts

    def state_at(self, row: int) -> ChargerState:
        """The state of the proxy row ``row``."""
        return self._model.state_at(self.mapToSource(self.index(row, 0)).row())

    def row_of(self, charger_id: str) -> int | None:
        """The proxy row of a charger; None when filtered out or unknown."""
        source = self._model.row_of(charger_id)
        if source is None:
            return None
        row = self.mapFromSource(self._model.index(source)).row()
        return row if row >= 0 else None

    def count(self, state: StateFilter) -> int:
        """Chargers in ``state`` among those the site, area and text select."""
        return self._counts[state]

    def _row_flags(self, row: int) -> int:
        state = self._model.state_at(row)
        return state_flags(state) if self._selects(state) else 0

    def _on_data_changed(self, top_left: Index, bottom_right: Index) -> None:
        self._dirty.update(range(top_left.row(), bottom_right.row() + 1))

    def _on_rows_inserted(self, parent: Index, first: int, last: int) -> None:
        self._flags[first:first] = [0] * (last - first + 1)
        self._dirty.update(range(first, last + 1))

    def _count_dirty(self) -> None:
        """Update the counts for the rows the batch changed."""
        counts = dict(self._counts)
        for row in self._dirty:
            old, new = self._flags[row], self._row_flags(row)
            if old != new:
                self._flags[row] = new
                for state_filter, bit in _BITS.items():
                    counts[state_filter] += bool(new & bit) - bool(old & bit)
        self._dirty.clear()
        self._set_counts(counts)

    def _count_all(self) -> None:
        self._flags = [self._row_flags(row) for row in range(self._model.rowCount())]
        self._dirty.clear()
        counts = dict.fromkeys(StateFilter, 0)
        for flags in self._flags:
            for state_filter, bit in _BITS.items():
                counts[state_filter] += bool(flags & bit)
        self._set_counts(counts)

    def _set_counts(self, counts: dict[StateFilter, int]) -> None:
        if counts != self._counts:
            self._counts = counts
            self.countsChanged.emit()
