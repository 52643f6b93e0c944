"""Changed rows as ranges, so a model signals one dataChanged per range and not per row."""

from __future__ import annotations

from collections.abc import Iterable


def row_runs(rows: Iterable[int], gap: int = 1) -> list[tuple[int, int]]:
    """Sorted row numbers → (first, last) ranges; rows at most ``gap`` apart share a range
    (1: only contiguous rows; more: fewer signals for a few unchanged rows repainted)."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
