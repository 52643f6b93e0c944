"""The common look of evsuper's PDF reports (reportlab platypus + reportlab.graphics).

ISA-101 calm: black on white, greys for structure, one accent colour (the period's own
data in charts), no alarm colours; an abnormal verdict is said in words and bold. Every
page carries the site, the report's title and period (local time, with UTC noted), the
generation time and "page n of m". No Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from os import PathLike
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.legends import LineLegend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#666666")
RULE = colors.HexColor("#b3b3b3")
HEADER_FILL = colors.HexColor("#e6e6e6")
TOTAL_FILL = colors.HexColor("#f2f2f2")
COMPARE = colors.HexColor("#9a9a9a")  # the reference series (the day before)
ACCENT = colors.HexColor("#2f5d8a")  # the one accent: the period's own data

PAGE = A4
MARGIN = 16 * mm
CONTENT_WIDTH = PAGE[0] - 2 * MARGIN

Cell = str | int | float | None

# DejaVu has ≤, →, … ; reportlab's own Vera (always there) lacks some: replaced then.
_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
_FALLBACK_TEXT = {"≤": "<=", "≥": ">=", "→": "->", "≈": "~", "…": "..."}
_fonts: tuple[str, str] | None = None
_full_unicode = False


def fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered once."""
    global _fonts, _full_unicode
    if _fonts is None:
        for folder in _FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.is_file() and bold.is_file():
                pdfmetrics.registerFont(TTFont("EvSans", str(regular)))
                pdfmetrics.registerFont(TTFont("EvSans-Bold", str(bold)))
                _full_unicode = True
                break
        else:
            pdfmetrics.registerFont(TTFont("EvSans", "Vera.ttf"))
            pdfmetrics.registerFont(TTFont("EvSans-Bold", "VeraBd.ttf"))
        _fonts = ("EvSans", "EvSans-Bold")
    return _fonts


def text(value: str) -> str:
    """Plain text made safe for a Paragraph (markup escaped, glyphs the font has)."""
    fonts()
    if not _full_unicode:
        for char, replacement in _FALLBACK_TEXT.items():
            value = value.replace(char, replacement)
    return escape(value)


# --- time -------------------------------------------------------------------------------


def zone_of(name: str) -> tzinfo:
    """An IANA zone; empty: the machine's local zone. ZoneInfoNotFoundError if unknown."""
    if name:
        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


@dataclass(frozen=True, slots=True)
class Period:
    """``[since, until)`` as aware UTC, shown in ``zone``."""

    since: datetime
    until: datetime
    zone: tzinfo

    @classmethod
    def days(cls, first: date, last: date, zone: tzinfo) -> Period:
        """Local midnight of ``first`` to local midnight after ``last`` (DST-safe)."""
        start = datetime(first.year, first.month, first.day, tzinfo=zone)
        end_day = last + timedelta(days=1)
        end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
        return cls(start.astimezone(UTC), end.astimezone(UTC), zone)

    @classmethod
    def month(cls, year: int, month: int, zone: tzinfo) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls.days(first, following - timedelta(days=1), zone)

    def local(self, ts: datetime) -> datetime:
        return ts.astimezone(self.zone)

    def zone_name(self) -> str:
        return str(getattr(self.zone, "key", None) or self.local(self.since).tzname() or "")

    def describe(self) -> str:
        """Local bounds with the zone, then the UTC bounds."""
        a, b = self.local(self.since), self.local(self.until)
        utc_a, utc_b = self.since.astimezone(UTC), self.until.astimezone(UTC)
        return (
            f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} {self.zone_name()} "
            f"(UTC {utc_a:%Y-%m-%d %H:%M} to {utc_b:%Y-%m-%d %H:%M})"
        )


# --- formatting -------------------------------------------------------------------------


def kwh(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}".replace(",", " ")


def kw(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def duration(seconds: float | None) -> str:
    """``h:mm`` (hours may exceed 24)."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def local_time(ts: datetime | None, period: Period, *, with_date: bool = True) -> str:
    if ts is None:
        return "—"
    return f"{period.local(ts):%Y-%m-%d %H:%M}" if with_date else f"{period.local(ts):%H:%M}"


# --- flowables --------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11.5, textColor=INK)
    return {
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontSize=8, leading=10, textColor=MUTED),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=bold, fontSize=15, leading=19, spaceAfter=2 * mm
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=bold,
            fontSize=11,
            leading=14,
            spaceBefore=4 * mm,
            spaceAfter=1.5 * mm,
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "cell_r": ParagraphStyle("cell_r", parent=body, fontSize=8, leading=10, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=body, fontName=bold, fontSize=8, leading=10),
        "head_r": ParagraphStyle(
            "head_r", parent=body, fontName=bold, fontSize=8, leading=10, alignment=TA_RIGHT
        ),
    }


def title(value: str) -> Paragraph:
    return Paragraph(text(value), _styles()["h1"])


def heading(value: str) -> Paragraph:
    return Paragraph(text(value), _styles()["h2"])


def paragraph(value: str) -> Paragraph:
    return Paragraph(text(value), _styles()["body"])


def note(value: str) -> Paragraph:
    return Paragraph(text(value), _styles()["note"])


def space(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)


def data_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    widths: Sequence[float] | None = None,
    right: Iterable[int] = (),
    total: Sequence[Cell] | None = None,
    bold_cells: Iterable[tuple[int, int]] = (),
) -> Table:
    """A table with its header repeated on each page; units belong in ``headers``.
    ``right``: numeric columns (right-aligned); ``total``: a last row, shaded;
    ``bold_cells``: (row, column) of the body to stress (an abnormal verdict)."""
    styles = _styles()
    right = set(right)
    bold = set(bold_cells)
    _, bold_font = fonts()

    def cell(value: Cell, column: int, stress: bool = False) -> Paragraph:
        style = styles["cell_r" if column in right else "cell"]
        shown = "" if value is None else text(str(value))
        if stress:
            shown = f'<font name="{bold_font}">{shown}</font>'
        return Paragraph(shown, style)

    body = [[cell(v, c, (r, c) in bold) for c, v in enumerate(row)] for r, row in enumerate(rows)]
    head = [
        Paragraph(text(h), styles["head_r" if c in right else "head"])
        for c, h in enumerate(headers)
    ]
    data: list[list[Any]] = [head, *body]
    if total is not None:
        data.append([cell(v, c, True) for c, v in enumerate(total)])
    if not body and total is None:
        data.append([Paragraph(text("none"), styles["cell"])] + [""] * (len(headers) - 1))
    if widths is not None:
        scale = CONTENT_WIDTH / sum(widths)
        col_widths: list[float] | None = [w * scale for w in widths]
    else:
        col_widths = None
    table = Table(data, colWidths=col_widths, repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, MUTED),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if total is not None:
        commands += [
            ("BACKGROUND", (0, -1), (-1, -1), TOTAL_FILL),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, MUTED),
        ]
    table.setStyle(TableStyle(commands))
    return table


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    points: Sequence[tuple[float, float]]
    colour: colors.Color
    width: float = 1.2


def _segments(points: Sequence[tuple[float, float]], gap: float | None) -> list[list[Any]]:
    """The points split where consecutive x are more than ``gap`` apart (no data there)."""
    segments: list[list[Any]] = []
    for x, y in points:
        if not segments or (gap is not None and x - segments[-1][-1][0] > gap):
            segments.append([])
        segments[-1].append((x, y))
    return segments


def line_chart(
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float],
    x_step: float,
    height_mm: float = 70,
    gap: float | None = None,
) -> Drawing:
    """Lines over a shared x axis, a legend on top; empty series are left out. A line is
    broken where its points are more than ``gap`` apart on x."""
    regular, _ = fonts()
    width = CONTENT_WIDTH
    height = height_mm * mm
    drawing = Drawing(width, height)
    shown = [s for s in series if s.points]
    plot = LinePlot()
    plot.x, plot.y = 40, 28
    plot.width, plot.height = width - 55, height - 50
    data: list[list[Any]] = []
    for s in shown:
        for segment in _segments(s.points, gap):
            plot.lines[len(data)].strokeColor = s.colour
            plot.lines[len(data)].strokeWidth = s.width
            data.append(segment)
    plot.data = data or [[(x_range[0], 0.0)]]
    if not shown:
        plot.lines[0].strokeColor = colors.white
    top = 1.05 * max((y for s in shown for _, y in s.points), default=0.0)  # headroom
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = x_range
    plot.xValueAxis.valueStep = x_step
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.valueMax = _nice_ceiling(top)
    plot.yValueAxis.valueStep = _nice_ceiling(top) / 5
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = regular
        axis.labels.fontSize = 7
        axis.labels.fillColor = MUTED
        axis.strokeColor = MUTED
        axis.strokeWidth = 0.5
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = RULE
    plot.yValueAxis.gridStrokeWidth = 0.25
    plot.yValueAxis.labelTextFormat = _axis_number
    plot.xValueAxis.labelTextFormat = "%g"
    drawing.add(plot)
    drawing.add(String(plot.x, height - 12, y_label, fontName=regular, fontSize=7.5, fillColor=INK))
    drawing.add(
        String(
            plot.x + plot.width,
            4,
            x_label,
            fontName=regular,
            fontSize=7.5,
            fillColor=INK,
            textAnchor="end",
        )
    )
    if shown:
        legend = LineLegend()
        legend.x, legend.y = plot.x + plot.width - 170, height - 8
        legend.fontName = regular
        legend.fontSize = 7.5
        legend.columnMaximum = 1
        legend.deltax = 85
        legend.dx, legend.dy = 14, 2
        legend.alignment = "right"
        legend.colorNamePairs = [(s.colour, s.label) for s in shown]
        drawing.add(legend)
    else:
        drawing.add(
            String(
                plot.x + plot.width / 2,
                plot.y + plot.height / 2,
                "no samples",
                fontName=regular,
                fontSize=9,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    return drawing


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _axis_number(value: float) -> str:
    return f"{value:g}"


# --- the document -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportInfo:
    title: str
    site: str
    period: Period
    generated: datetime  # aware


def _numbered_canvas(info: ReportInfo) -> Callable[..., Canvas]:
    """A canvas that draws header and footer once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            count = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                _decorate(self, info, self._pageNumber, count)
                super().showPage()
            super().save()

    return NumberedCanvas


def _decorate(canvas: Canvas, info: ReportInfo, page: int, pages: int) -> None:
    regular, bold = fonts()
    width, height = PAGE
    canvas.saveState()
    top = height - 10 * mm
    canvas.setFillColor(INK)
    canvas.setFont(bold, 9)
    canvas.drawString(MARGIN, top, info.site)
    canvas.setFont(regular, 9)
    canvas.drawRightString(width - MARGIN, top, info.title)
    canvas.setFont(regular, 7.5)
    canvas.setFillColor(MUTED)
    canvas.drawString(MARGIN, top - 4 * mm, f"Period: {info.period.describe()}")
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(0.8)
    canvas.line(MARGIN, top - 6 * mm, width - MARGIN, top - 6 * mm)
    bottom = 9 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN, bottom + 4 * mm, width - MARGIN, bottom + 4 * mm)
    generated = info.generated.astimezone(UTC)
    canvas.drawString(MARGIN, bottom, f"Generated {generated:%Y-%m-%d %H:%M} UTC by evsuper")
    canvas.drawRightString(width - MARGIN, bottom, f"Page {page} of {pages}")
    canvas.restoreState()


def write_pdf(path: str | PathLike[str], info: ReportInfo, story: list[Flowable]) -> None:
    """Lay ``story`` out on A4 pages with the report's header and footer."""
    document = SimpleDocTemplate(
        str(path),
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 6 * mm,
        bottomMargin=MARGIN + 2 * mm,
        title=f"{info.title} — {info.site}",
        author="evsuper",
        subject=info.period.describe(),
    )
    document.build(story, canvasmaker=_numbered_canvas(info))


def keep(*flowables: Flowable) -> KeepTogether:
    return KeepTogether(list(flowables))
