"""Where the operator is in the ISA-101 display hierarchy, and where he has been.

Levels: all sites (the hypervision, for a project with several) → a site's overview →
one of its areas → a bollard (its faceplate, level 3) → its diagnostics (the maintenance
window, level 4). ``History`` keeps the places visited for
back and forward, like a browser. No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

HISTORY_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Location:
    site: str = ""  # "": every site
    area: str = ""  # "": every area of the site
    charger: str = ""  # "": no bollard in focus
    diagnostics: bool = False  # level 4: the bollard's maintenance window

    def up(self) -> Location:
        """One level up: diagnostics → bollard → its area → its site → every site."""
        if self.diagnostics:
            return Location(self.site, self.area, self.charger)
        if self.charger:
            return Location(self.site, self.area)
        if self.area:
            return Location(self.site)
        return Location()


class History:
    def __init__(self, start: Location) -> None:
        self._places = [start]
        self._index = 0

    @property
    def current(self) -> Location:
        return self._places[self._index]

    @property
    def can_go_back(self) -> bool:
        return self._index > 0

    @property
    def previous(self) -> Location | None:
        """Where Back leads, if anywhere."""
        return self._places[self._index - 1] if self._index > 0 else None

    @property
    def can_go_forward(self) -> bool:
        return self._index < len(self._places) - 1

    def visit(self, place: Location) -> bool:
        """``place`` becomes the current one (what was ahead is forgotten); False when it
        is the current one already."""
        if place == self.current:
            return False
        self._places[self._index + 1 :] = [place]
        if len(self._places) > HISTORY_LENGTH:
            del self._places[0]
        self._index = len(self._places) - 1
        return True

    def back(self) -> Location:
        self._index = max(0, self._index - 1)
        return self.current

    def forward(self) -> Location:
        self._index = min(len(self._places) - 1, self._index + 1)
        return self.current
