"""The one place for colours, fonts and the style sheet (ISA-101 high-performance HMI).

Grey and calm for everything normal: normal states differ by shape, fill and text,
never by hue. Colour is kept for the abnormal: alarm red means an alarm (a faulted
connector) and nothing else; a lost charger is shown dark with a magenta label, a
non-alarm indication that cannot be mistaken for an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from evsuper.alarms.model import Priority
from evsuper.core.domain import ArchiveState, CommState, ConnectorStatus


class Palette:
    """Named colours; widgets and delegates refer to these, never to literals."""

    BACKGROUND = QColor("#c4c6c8")  # display background
    PANEL = QColor("#d5d7d9")  # faceplate, status bar
    TILE = QColor("#dfe0e1")
    TILE_BORDER = QColor("#a4a7aa")
    TILE_HOVER = QColor("#e7e8e9")
    SELECTION = QColor("#1f2225")
    TEXT = QColor("#1f2225")
    TEXT_SECONDARY = QColor("#55595d")
    TEXT_MUTED = QColor("#8a8e92")
    SEPARATOR = QColor("#b5b8bb")
    BAR_TRACK = QColor("#c3c6c9")
    BAR_FILL = QColor("#4a4d51")  # power bar and "charging" glyph fill
    SUSPENDED_FILL = QColor("#9a9da1")
    ALARM = QColor("#d40f1c")  # alarms only (priority 1, connector faulted)
    ALARM_HIGH = QColor("#f07c00")  # priority 2, alarms only
    ALARM_MEDIUM = QColor("#f2c500")  # priority 3, alarms only
    ALARM_LOW = QColor("#2f8fc4")  # priority 4, alarms only
    ON_ALARM = QColor("#ffffff")
    OFFLINE_TILE = QColor("#62666b")
    OFFLINE_HATCH = QColor("#6c7075")
    OFFLINE_TEXT = QColor("#d2d4d6")
    OFFLINE_DIM = QColor("#a3a6aa")
    COMM_FAILURE = QColor("#f29bf2")  # magenta: lost communication, not an alarm
    NO_DATA_TILE = QColor("#d0d2d4")
    TREND_ACCENT = QColor("#2d4f7a")  # a trend's first pen: dark slate blue, no alarm hue
    DIFF_ADDED = QColor("#f3f4f5")  # a line added, in a project diff: lighter than a tile
    DIFF_REMOVED = QColor("#c9cbce")  # a line removed: darker; both greys, never alarm hues


FONT_FAMILIES = ["Segoe UI", "Noto Sans", "DejaVu Sans", "Sans Serif"]


def font(point_size: float, *, bold: bool = False) -> QFont:
    result = QFont()
    result.setFamilies(FONT_FAMILIES)
    result.setPointSizeF(point_size)
    result.setBold(bold)
    return result


class GlyphFill(Enum):
    """How a connector symbol is filled: the shape code for the connector state."""

    NONE = auto()  # no status received yet: dotted outline
    EMPTY = auto()  # Available
    PARTIAL = auto()  # Preparing, Finishing: lower half filled
    SOLID = auto()  # Charging
    SOLID_LIGHT = auto()  # Suspended by the EV or the EVSE
    DASHED = auto()  # Reserved
    HATCHED = auto()  # Unavailable (out of service)
    ALARM = auto()  # Faulted
    CROSSHATCHED = auto()  # Out of service for maintenance (set by the operator)


@dataclass(frozen=True, slots=True)
class ConnectorStyle:
    label: str
    fill: GlyphFill
    text: QColor
    bold: bool = False


_CONNECTOR_STYLES: dict[ConnectorStatus, ConnectorStyle] = {
    ConnectorStatus.AVAILABLE: ConnectorStyle("Available", GlyphFill.EMPTY, Palette.TEXT),
    ConnectorStatus.PREPARING: ConnectorStyle("Preparing", GlyphFill.PARTIAL, Palette.TEXT),
    ConnectorStatus.CHARGING: ConnectorStyle("Charging", GlyphFill.SOLID, Palette.TEXT, True),
    ConnectorStatus.SUSPENDED_EV: ConnectorStyle(
        "Suspended EV", GlyphFill.SOLID_LIGHT, Palette.TEXT
    ),
    ConnectorStatus.SUSPENDED_EVSE: ConnectorStyle(
        "Suspended EVSE", GlyphFill.SOLID_LIGHT, Palette.TEXT
    ),
    ConnectorStatus.FINISHING: ConnectorStyle("Finishing", GlyphFill.PARTIAL, Palette.TEXT),
    ConnectorStatus.RESERVED: ConnectorStyle("Reserved", GlyphFill.DASHED, Palette.TEXT),
    ConnectorStatus.UNAVAILABLE: ConnectorStyle(
        "Unavailable", GlyphFill.HATCHED, Palette.TEXT_MUTED
    ),
    ConnectorStatus.FAULTED: ConnectorStyle("FAULTED", GlyphFill.ALARM, Palette.ALARM, True),
}
_NO_STATUS = ConnectorStyle("No status", GlyphFill.NONE, Palette.TEXT_MUTED)
# Taken out of service for maintenance: not an OCPP status, the operator's decision.
OUT_OF_SERVICE = ConnectorStyle("Out of service", GlyphFill.CROSSHATCHED, Palette.TEXT_SECONDARY)


def connector_style(status: ConnectorStatus | None) -> ConnectorStyle:
    return _NO_STATUS if status is None else _CONNECTOR_STYLES[status]


class PriorityShape(Enum):
    """Each alarm priority has its own shape, so colour is never the only cue."""

    DIAMOND = auto()  # 1 critical
    TRIANGLE = auto()  # 2 high
    CIRCLE = auto()  # 3 medium
    TRIANGLE_DOWN = auto()  # 4 low


@dataclass(frozen=True, slots=True)
class PriorityStyle:
    """How an alarm priority is drawn: shape and letter/number, and its alarm colour."""

    label: str  # "Critical"
    shape: PriorityShape
    symbol: str  # the shape as text, for plain-text places (tooltips, exports)
    color: QColor  # fill of the shape
    on_color: QColor  # the number drawn on the fill


_PRIORITY_STYLES: dict[Priority, PriorityStyle] = {
    Priority.CRITICAL: PriorityStyle(
        "Critical", PriorityShape.DIAMOND, "◆", Palette.ALARM, Palette.ON_ALARM
    ),
    Priority.HIGH: PriorityStyle(
        "High", PriorityShape.TRIANGLE, "▲", Palette.ALARM_HIGH, Palette.TEXT
    ),
    Priority.MEDIUM: PriorityStyle(
        "Medium", PriorityShape.CIRCLE, "●", Palette.ALARM_MEDIUM, Palette.TEXT
    ),
    Priority.LOW: PriorityStyle(
        "Low", PriorityShape.TRIANGLE_DOWN, "▼", Palette.ALARM_LOW, Palette.ON_ALARM
    ),
}


def priority_style(priority: Priority) -> PriorityStyle:
    """The one definition of an alarm priority's look (list, banner, tiles, faceplate)."""
    return _PRIORITY_STYLES[priority]


@dataclass(frozen=True, slots=True)
class CommStyle:
    """How a charger tile looks for its communication state."""

    label: str  # shown on the tile; empty when normal
    background: QColor
    text: QColor
    label_color: QColor
    dim: QColor  # connector lines whose values are not live
    hatched: bool = False
    dashed_border: bool = False


_COMM_STYLES: dict[CommState, CommStyle] = {
    CommState.ONLINE: CommStyle("", Palette.TILE, Palette.TEXT, Palette.TEXT, Palette.TEXT),
    CommState.OFFLINE: CommStyle(
        "OFFLINE",
        Palette.OFFLINE_TILE,
        Palette.OFFLINE_TEXT,
        Palette.COMM_FAILURE,
        Palette.OFFLINE_DIM,
        hatched=True,
    ),
    CommState.UNKNOWN: CommStyle(
        "NOT SEEN",
        Palette.NO_DATA_TILE,
        Palette.TEXT_SECONDARY,
        Palette.TEXT_SECONDARY,
        Palette.TEXT_MUTED,
        dashed_border=True,
    ),
}


def comm_style(comm: CommState) -> CommStyle:
    return _COMM_STYLES[comm]


def comm_label(comm: CommState) -> str:
    """Text for the communication state in detail views (the tile leaves "online" unsaid)."""
    return {CommState.ONLINE: "Online", CommState.OFFLINE: "OFFLINE"}.get(comm, "Not seen")


class Emphasis(Enum):
    """Weight of a status-bar or result text: normal, notable (bold grey) or alarm."""

    NORMAL = "normal"
    NOTABLE = "notable"
    ALARM = "alarm"


def set_emphasis(widget: QWidget, emphasis: Emphasis) -> None:
    """Select the style-sheet variant of ``widget`` (its ``emphasis`` property).

    Write-only on purpose: reading an unset property through PySide6 6.12 returns an
    invalid QVariant, and converting that to ``None`` loses a reference to ``None``.
    """
    widget.setProperty("emphasis", emphasis.value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def role_label(role: str, text: str = "") -> QLabel:
    """A label drawn as its ``role`` says: title, subtitle, section, caption, value, commBadge."""
    label = QLabel(text)
    label.setProperty("role", role)
    return label


def named_button(name: str, text: str, tip: str) -> QPushButton:
    """A push button with its object name (tests and the style sheet find it by it) and its
    tooltip."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


def archive_emphasis(state: ArchiveState | None) -> Emphasis:
    if state is ArchiveState.ERROR:
        return Emphasis.ALARM
    if state in (ArchiveState.BACKLOG, ArchiveState.STOPPED, None):
        return Emphasis.NOTABLE
    return Emphasis.NORMAL


# Qt style sheet; dynamic properties ("emphasis", "role") select the variants.
_QSS = """
QMainWindow, QDialog {{ background: {background}; }}
QWidget {{ color: {text}; }}
QToolTip {{ background: {panel}; color: {text}; border: 1px solid {border}; }}
QListView#overview {{ background: {background}; border: none; }}
QDockWidget {{ color: {text}; font-weight: bold; }}
QDockWidget::title {{
    background: {panel}; padding: 5px 8px; border-bottom: 1px solid {border};
}}
QScrollArea#faceplateScroll, QWidget#faceplate {{ background: {panel}; border: none; }}
QLabel[role="title"] {{ font-size: 15pt; font-weight: bold; }}
QLabel[role="subtitle"] {{ color: {secondary}; }}
QLabel[role="caption"] {{ color: {secondary}; }}
QLabel[role="value"] {{ color: {text}; }}
QLabel:disabled, QLabel[role="value"]:disabled {{ color: {muted}; }}
QLabel[quality="stale"] {{ color: {muted}; font-style: italic; }}
QLabel[role="section"] {{
    color: {secondary}; font-weight: bold; margin: 0; padding: 8px 0 2px 0;
    border: none; border-bottom: 1px solid {border};
}}
QLabel[emphasis="notable"] {{ font-weight: bold; }}
QLabel[emphasis="alarm"] {{ color: {alarm}; font-weight: bold; }}
QLabel[role="commBadge"] {{ padding: 2px 6px; border: 1px solid {border}; }}
QLabel[role="commBadge"][emphasis="notable"] {{
    background: {offline}; color: {comm_failure}; border-color: {offline};
}}
QLabel#commandResult {{
    background: {tile}; border: 1px solid {border}; padding: 4px 6px;
}}
QLabel#commandResult[emphasis="notable"] {{ border: 2px solid {text}; }}
QPushButton {{
    background: {tile}; border: 1px solid {border}; border-radius: 2px;
    padding: 3px 8px; min-height: 18px;
}}
QPushButton:hover {{ background: {hover}; }}
QPushButton:pressed {{ background: {bar_track}; }}
QPushButton:disabled {{ color: {muted}; background: {panel}; border-color: {separator}; }}
QComboBox, QLineEdit, QAbstractSpinBox {{
    background: {tile}; border: 1px solid {border}; padding: 2px 4px; min-height: 18px;
}}
QComboBox:disabled, QLineEdit:disabled, QAbstractSpinBox:disabled {{
    color: {muted}; background: {panel};
}}
QMenu {{ background: {tile}; border: 1px solid {border}; padding: 2px; }}
QMenu::item {{ padding: 4px 16px; }}
QMenu::item:selected {{ background: {bar_track}; color: {text}; }}
QStatusBar {{ background: {panel}; border-top: 1px solid {border}; }}
QToolBar {{ background: {panel}; border: none; border-bottom: 1px solid {border}; spacing: 6px; }}
QWidget#eventLog, QWidget#alarmHistory, QWidget#alarmKpi,
QWidget#transactionHistory, QWidget#trends,
QWidget#energyDashboard, QWidget#reports,
QWidget#projectHistory, QWidget#driversView, QWidget#tagBrowser {{ background: {background}; }}
QWidget#profileManagement, QWidget#powerManagement, QWidget#planning {{
    background: {background};
}}
QScrollArea#reportPreview, QWidget#reportCanvas {{ background: {bar_track}; }}
QScrollArea#hypervisionSites, QWidget#hypervisionBody {{ background: {background}; border: none; }}
QLabel#breadcrumb {{ font-weight: bold; padding-left: 4px; }}
QScrollArea#reportPreview {{ border: 1px solid {border}; }}
QLabel#reportPageImage {{ border: 1px solid {border}; }}
QToolBar#alarmBar {{ padding: 0; spacing: 0; }}
QToolButton[role="filterToggle"] {{
    background: {panel}; color: {muted}; border: 1px solid {separator}; border-radius: 2px;
    padding: 2px 6px;
}}
QToolButton[role="filterToggle"]:checked {{
    background: {tile}; color: {text}; border: 1px solid {text};
}}
QToolButton[role="stateCount"] {{
    background: {panel}; color: {text}; border: 1px solid {separator}; border-radius: 2px;
    padding: 2px 8px;
}}
QToolButton[role="stateCount"]:hover {{ background: {hover}; }}
QToolButton[role="stateCount"]:checked {{ background: {tile}; border: 2px solid {text}; }}
QToolButton[role="stateCount"][emphasis="notable"] {{ font-weight: bold; }}
QToolButton[role="stateCount"][emphasis="alarm"] {{ color: {alarm}; font-weight: bold; }}
QWidget#overviewFilterBar {{ background: {panel}; border-bottom: 1px solid {border}; }}
QFrame#alarmBanner {{ background: {panel}; }}
QFrame#alarmBannerSeparator {{ color: {separator}; }}
QLabel#alarmBannerMessage:disabled {{ color: {secondary}; }}
QWidget#alarmList {{ background: {background}; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ padding: 0 10px; border-left: 1px solid {separator}; }}
QPushButton#pendingChargers {{
    font-weight: bold; border: 1px solid {text}; padding: 1px 10px; margin: 2px 8px;
    min-height: 14px;
}}
QTableView, QTreeView {{
    background: {tile}; alternate-background-color: {hover}; border: 1px solid {border};
    selection-background-color: {bar_track}; selection-color: {text};
}}
QHeaderView::section {{
    background: {panel}; color: {secondary}; font-weight: bold; border: none;
    border-bottom: 1px solid {border}; padding: 4px 6px;
}}
QTableView::item {{ padding: 0 3px; }}
QTableView QPushButton {{ margin: 3px 8px; }}
QLabel#pendingEmpty {{ color: {secondary}; background: {tile}; border: 1px solid {border}; }}
QTabWidget::pane {{ background: {panel}; border: 1px solid {border}; top: -1px; }}
QTabBar::tab {{
    background: {background}; color: {secondary}; border: 1px solid {border};
    border-bottom: none; padding: 5px 14px; margin-right: 2px;
}}
QTabBar::tab:selected {{ background: {panel}; color: {text}; }}
QTabBar::tab:hover:!selected {{ background: {hover}; }}
QPlainTextEdit {{ background: {tile}; border: 1px solid {border}; }}
QProgressBar {{
    background: {tile}; border: 1px solid {border}; border-radius: 2px; text-align: center;
    min-height: 18px;
}}
QProgressBar::chunk {{ background: {bar_track}; }}
"""


def stylesheet() -> str:
    p = Palette
    return _QSS.format(
        background=p.BACKGROUND.name(),
        panel=p.PANEL.name(),
        tile=p.TILE.name(),
        hover=p.TILE_HOVER.name(),
        border=p.TILE_BORDER.name(),
        separator=p.SEPARATOR.name(),
        text=p.TEXT.name(),
        secondary=p.TEXT_SECONDARY.name(),
        muted=p.TEXT_MUTED.name(),
        bar_track=p.BAR_TRACK.name(),
        alarm=p.ALARM.name(),
        offline=p.OFFLINE_TILE.name(),
        comm_failure=p.COMM_FAILURE.name(),
    )


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setFont(font(9.5))
    app.setStyleSheet(stylesheet())
