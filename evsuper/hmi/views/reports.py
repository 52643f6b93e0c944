"""The Reports window: pick a report (daily energy, monthly billing, alarm KPIs — those of
``evsuper report``), generate it on the worker thread, preview its pages, save or print it.

The PDF is written by ``evsuper.reports.make.write_report`` through the ``write`` callable
(blocking, run on the worker thread) and kept in memory; pages are rendered with pypdfium2
(PySide6-Essentials has no QtPdf) on the GUI thread, one page at a time, at the zoom shown;
the document is opened for each rendering and closed at once (pdfium handles never linger).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QImage, QPainter, QPixmap, QResizeEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from evsuper.hmi.theme import Emphasis, role_label, set_emphasis
from evsuper.hmi.worker import Worker
from evsuper.reports.make import ReportKind, ReportRequest

ReportWriter = Callable[[ReportRequest, Path], str]  # writes the PDF, returns a summary

TITLES = {
    ReportKind.DAILY: "Daily energy report",
    ReportKind.MONTHLY: "Monthly billing report",
    ReportKind.ALARMS: "Alarm KPI report",
}
FIT_WIDTH, FIT_PAGE = "Fit width", "Fit page"
ZOOMS = (FIT_WIDTH, FIT_PAGE, "50 %", "75 %", "100 %", "150 %", "200 %")
SCREEN_DPI = 96.0
PRINT_DPI = 300.0  # pages are printed as images at most this fine
PAGE_MARGIN = 16  # px around the page in the preview


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())


def _date_edit(name: str, day: date, today: date, display: str = "yyyy-MM-dd") -> QDateEdit:
    edit = QDateEdit(_qdate(day))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(display)
    edit.setMaximumDate(_qdate(today))
    return edit


def file_name(request: ReportRequest) -> str:
    """The file a report is offered to be saved as."""
    if request.kind is ReportKind.DAILY:
        return f"daily-{request.first:%Y-%m-%d}.pdf"
    if request.kind is ReportKind.MONTHLY:
        return f"billing-{request.first:%Y-%m}.pdf"
    return f"alarms-{request.first:%Y-%m-%d}-{(request.last or request.first):%Y-%m-%d}.pdf"


@contextmanager
def opened(data: bytes) -> Iterator[pdfium.PdfDocument]:
    document = pdfium.PdfDocument(data)
    try:
        yield document
    finally:
        document.close()


def render_page(document: pdfium.PdfDocument, index: int, scale: float) -> QImage:
    """Page ``index`` at ``scale`` pixels per PDF point."""
    page = document[index]
    try:
        bitmap = page.render(scale=scale, rev_byteorder=True)
    finally:
        page.close()
    formats = {3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}
    image = QImage(
        bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride, formats[bitmap.n_channels]
    )
    return image.copy()  # detached from the buffer


class ReportsView(QWidget):
    """See the module docstring. ``today`` fixes the dates offered (tests)."""

    def __init__(
        self, write: ReportWriter, parent: QWidget | None = None, *, today: date | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("reports")
        self.setWindowTitle("Reports — evsuper")
        self.resize(1100, 860)
        self._write = write
        self._worker = Worker("evsuper-reports", self)
        self.pdf: bytes | None = None  # the report shown
        self.request: ReportRequest | None = None
        self._sizes: list[tuple[float, float]] = []  # page sizes (points) of the report shown
        self._page = 0
        self._render_soon = QTimer(self, singleShot=True, interval=0)
        self._render_soon.timeout.connect(self._render)
        today = today or date.today()
        yesterday = today - timedelta(days=1)
        last_month = today.replace(day=1) - timedelta(days=1)

        self.kind = QComboBox()
        self.kind.setObjectName("reportKind")
        for kind in ReportKind:
            self.kind.addItem(TITLES[kind], kind)
        self.day = _date_edit("reportDay", yesterday, today)
        self.month = _date_edit("reportMonth", last_month, today, "MMMM yyyy")
        self.first = _date_edit("reportFrom", today - timedelta(days=7), today)
        self.last = _date_edit("reportTo", yesterday, today)
        self.positions = QSpinBox()
        self.positions.setObjectName("reportPositions")
        self.positions.setRange(1, 50)
        self.positions.setToolTip("Operator positions sharing the alarm load")
        self.parameters = QStackedWidget()
        self._parameter_pages: list[QWidget] = []
        for rows in (
            (("Day", self.day),),
            (("Month", self.month),),
            (("From", self.first), ("To", self.last), ("Positions", self.positions)),
        ):
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            for caption, field in rows:
                label = QLabel(caption)
                label.setMinimumWidth(64)  # the same column on every page
                form.addRow(label, field)
            self.parameters.addWidget(page)
            self._parameter_pages.append(page)
        self.kind.currentIndexChanged.connect(self._show_parameters)
        self._show_parameters(0)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("reportGenerate")
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate)
        self.status = role_label("caption", "Choose a report and its period, then Generate.")
        self.status.setObjectName("reportStatus")
        self.status.setWordWrap(True)

        side = QVBoxLayout()
        side.addWidget(role_label("section", "Report"))
        side.addWidget(self.kind)
        side.addWidget(role_label("section", "Period"))
        side.addWidget(self.parameters)
        side.addSpacing(8)
        side.addWidget(self.generate_button)
        side.addWidget(self.status)
        side.addStretch(1)
        note = role_label(
            "caption",
            "Dates are local to the project's time zone. The same reports are written by "
            "'evsuper report'.",
        )
        note.setWordWrap(True)
        side.addWidget(note)
        side_panel = QWidget()
        side_panel.setObjectName("reportSide")
        side_panel.setLayout(side)
        side_panel.setFixedWidth(260)

        self.heading = role_label("section", "Preview")
        self.heading.setObjectName("reportHeading")
        self.previous_button = QPushButton("◀")
        self.previous_button.setObjectName("reportPrevious")
        self.previous_button.setToolTip("Previous page")
        self.previous_button.clicked.connect(lambda: self.show_page(self._page - 1))
        self.page_spin = QSpinBox()
        self.page_spin.setObjectName("reportPage")
        self.page_spin.setRange(1, 1)
        self.page_spin.valueChanged.connect(lambda n: self.show_page(n - 1))
        self.page_total = QLabel("of 0")
        self.next_button = QPushButton("▶")
        self.next_button.setObjectName("reportNext")
        self.next_button.setToolTip("Next page")
        self.next_button.clicked.connect(lambda: self.show_page(self._page + 1))
        self.zoom = QComboBox()
        self.zoom.setObjectName("reportZoom")
        self.zoom.addItems(ZOOMS)
        self.zoom.currentIndexChanged.connect(lambda _: self._render_soon.start())
        self.save_button = QPushButton("Save as…")
        self.save_button.setObjectName("reportSave")
        self.save_button.clicked.connect(self.save_as)
        self.print_button = QPushButton("Print…")
        self.print_button.setObjectName("reportPrint")
        self.print_button.clicked.connect(self.print_report)
        tools = QHBoxLayout()
        tools.setSpacing(6)
        for widget in (self.previous_button, QLabel("Page"), self.page_spin, self.page_total):
            tools.addWidget(widget)
        tools.addWidget(self.next_button)
        tools.addSpacing(12)
        tools.addWidget(QLabel("Zoom"))
        tools.addWidget(self.zoom)
        tools.addStretch(1)
        tools.addWidget(self.save_button)
        tools.addWidget(self.print_button)

        self.page_label = QLabel()
        self.page_label.setObjectName("reportPageImage")
        self.page_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.placeholder = role_label("caption", "No report generated yet.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        holder = QWidget()
        holder.setObjectName("reportCanvas")
        canvas = QVBoxLayout(holder)
        canvas.setContentsMargins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        canvas.addWidget(self.placeholder, 1)
        canvas.addWidget(self.page_label, 0, Qt.AlignmentFlag.AlignHCenter)
        canvas.addStretch(0)
        self.preview = QScrollArea()
        self.preview.setObjectName("reportPreview")
        self.preview.setWidgetResizable(True)
        self.preview.setFrameShape(QFrame.Shape.StyledPanel)
        self.preview.setWidget(holder)

        viewer = QVBoxLayout()
        viewer.setSpacing(6)
        viewer.addWidget(self.heading)
        viewer.addLayout(tools)
        viewer.addWidget(self.preview, 1)

        header = QHBoxLayout()
        header.addWidget(role_label("title", "Reports"))
        header.addWidget(
            role_label("subtitle", "Daily energy, monthly billing and alarm KPIs as PDF"), 1
        )
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(side_panel)
        body.addLayout(viewer, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addLayout(body, 1)
        self._update_controls()

    def _show_parameters(self, index: int) -> None:
        """The period fields of report ``index``; the stack takes the height of those only."""
        for i, page in enumerate(self._parameter_pages):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.parameters.setCurrentIndex(index)

    # ------------------------------------------------------------------ generating

    def current_request(self) -> ReportRequest | None:
        """The report the form asks for; None (and says why) when the period is bad."""
        kind = ReportKind(self.kind.currentData())
        if kind is ReportKind.DAILY:
            return ReportRequest(kind, _date(self.day))
        if kind is ReportKind.MONTHLY:
            return ReportRequest(kind, _date(self.month).replace(day=1))
        first, last = _date(self.first), _date(self.last)
        if last < first:
            self._say(f"'To' ({last}) is before 'From' ({first}).", Emphasis.NOTABLE)
            return None
        return ReportRequest(kind, first, last, self.positions.value())

    @property
    def generating(self) -> bool:
        return not self.generate_button.isEnabled()

    def generate(self) -> None:
        request = self.current_request()
        if request is None:
            return
        self.generate_button.setEnabled(False)
        title = TITLES[request.kind]
        self._say(f"Generating the {title[0].lower()}{title[1:]}…")
        write = self._write

        def work() -> tuple[ReportRequest, bytes, str]:
            with tempfile.TemporaryDirectory(prefix="evsuper-report-") as folder:
                path = Path(folder) / file_name(request)
                summary = write(request, path)
                return request, path.read_bytes(), summary

        self._worker.run(work, self._generated, self._failed)

    def _generated(self, result: tuple[ReportRequest, bytes, str]) -> None:
        request, data, summary = result
        self.generate_button.setEnabled(True)
        with opened(data) as document:
            self._sizes = [document.get_page_size(i) for i in range(len(document))]
        self.request, self.pdf = request, data
        self._page = 0
        pages = len(self._sizes)
        self.heading.setText(f"{TITLES[request.kind]} — {_period(request)}")
        self._say(f"{summary}; {pages} page{'' if pages == 1 else 's'}.")
        self.page_spin.setRange(1, max(pages, 1))
        self.page_total.setText(f"of {pages}")
        self._update_controls()
        self.show_page(0)

    def _failed(self, exc: Exception) -> None:
        self.generate_button.setEnabled(True)
        self._say(f"The report could not be generated: {exc}", Emphasis.NOTABLE)

    def _say(self, text: str, emphasis: Emphasis = Emphasis.NORMAL) -> None:
        self.status.setText(text)
        set_emphasis(self.status, emphasis)

    # ------------------------------------------------------------------ preview

    @property
    def page_count(self) -> int:
        return len(self._sizes)

    @property
    def page(self) -> int:
        """The page shown, from 0."""
        return self._page

    def show_page(self, index: int) -> None:
        if not 0 <= index < self.page_count:
            return
        self._page = index
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(index + 1)
        self.page_spin.blockSignals(False)
        self._update_controls()
        self._render()

    def _scale(self) -> float:
        """Pixels per PDF point for the zoom chosen."""
        width, height = self._sizes[self._page]
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        frame = 2 * self.preview.frameWidth() + 2 * PAGE_MARGIN + 8  # + the page's border
        room_w = max(self.preview.width() - frame - bar, 100)
        room_h = max(self.preview.height() - frame, 100)
        zoom = self.zoom.currentText()
        fits = zoom in (FIT_WIDTH, FIT_PAGE)
        self.preview.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fits else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        if zoom == FIT_WIDTH:
            return float(room_w / width)
        if zoom == FIT_PAGE:
            return float(min(room_w / width, room_h / height))
        return float(zoom.rstrip(" %")) / 100.0 * SCREEN_DPI / 72.0

    def _render(self) -> None:
        if self.pdf is None:
            return
        ratio = self.devicePixelRatioF()
        with opened(self.pdf) as document:
            image = render_page(document, self._page, self._scale() * ratio)
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.page_label.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.zoom.currentText() in (FIT_WIDTH, FIT_PAGE):
            self._render_soon.start()

    def _update_controls(self) -> None:
        have = self.pdf is not None
        self.placeholder.setVisible(not have)
        self.page_label.setVisible(have)
        for widget in (self.save_button, self.print_button, self.zoom, self.page_spin):
            widget.setEnabled(have)
        self.previous_button.setEnabled(have and self._page > 0)
        self.next_button.setEnabled(have and self._page < self.page_count - 1)

    # ------------------------------------------------------------------ save, print

    def save_as(self) -> None:
        if self.pdf is None or self.request is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save report as", file_name(self.request), "PDF documents (*.pdf)"
        )
        if not name:
            return
        path = Path(name) if name.lower().endswith(".pdf") else Path(name + ".pdf")
        try:
            path.write_bytes(self.pdf)
        except OSError as exc:
            self._say(f"Cannot save {path}: {exc.strerror or exc}", Emphasis.NOTABLE)
        else:
            self._say(f"Saved as {path}.")

    def print_report(self) -> None:
        if self.pdf is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(file_name(self.request) if self.request else "report")
        printer.setFromTo(1, self.page_count)
        dialog = QPrintDialog(printer, self)
        dialog.setMinMax(1, self.page_count)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.print_to(printer)

    def print_to(self, printer: QPrinter) -> int:
        """Print the pages chosen in ``printer`` (all by default); returns how many."""
        first = printer.fromPage() - 1 if printer.fromPage() else 0
        last = min(printer.toPage(), self.page_count) if printer.toPage() else self.page_count
        scale = min(float(printer.resolution()), PRINT_DPI) / 72.0
        painter = QPainter()
        if self.pdf is None or not painter.begin(printer):
            self._say("The printer could not be started.", Emphasis.NOTABLE)
            return 0
        try:
            with opened(self.pdf) as document:
                for index in range(first, last):
                    if index > first:
                        printer.newPage()
                    image = render_page(document, index, scale)
                    target = painter.viewport()
                    size = image.size().scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
                    painter.setViewport(target.x(), target.y(), size.width(), size.height())
                    painter.setWindow(image.rect())
                    painter.drawImage(0, 0, image)
                    painter.setViewport(target)
        finally:
            painter.end()
        printed = last - first
        self._say(f"Sent {printed} page{'' if printed == 1 else 's'} to the printer.")
        return printed


def _period(request: ReportRequest) -> str:
    if request.kind is ReportKind.DAILY:
        return f"{request.first:%A %d %B %Y}"
    if request.kind is ReportKind.MONTHLY:
        return f"{request.first:%B %Y}"
    return f"{request.first:%d %B %Y} to {(request.last or request.first):%d %B %Y}"
