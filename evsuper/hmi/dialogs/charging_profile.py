"""The dialog that composes an OCPP 1.6 charging profile for SetChargingProfile, or a
named template of the profile library.

It only gathers the operator's choices and builds a typed ``ChargingProfile`` from them
(constructing it validates it; the reason it is invalid is shown and OK stays off), with
the schedule drawn live beside the fields. The maintenance window sends the command on
``accepted``; the profile management window saves the template. Times are entered in
local time and come back as aware UTC; period starts are entered in minutes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from evsuper.charging.composite import composite_schedule
from evsuper.charging.profiles import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    InstalledProfile,
    RecurrencyKind,
    SchedulePeriod,
)
from evsuper.core.timeutil import utcnow
from evsuper.hmi import formatting
from evsuper.hmi.theme import Emphasis, Palette, role_label, set_emphasis
from evsuper.hmi.widgets.number_field import DecimalField, IntField
from evsuper.hmi.widgets.plots import calm_pen, calm_plot
from evsuper.hmi.widgets.schedule_chart import step_points
from evsuper.project.profile_library import ProfileTemplate

DEFAULT_LIMITS = {ChargingRateUnit.AMPS: 16.0, ChargingRateUnit.WATTS: 11000.0}
PHASES = (None, 1, 2, 3)  # None: not sent (the charger assumes 3)
MAX_PERIOD_START_MIN = 7 * 24 * 60  # a week: the longest recurrence


def fill_connectors(combo: QComboBox, connectors: int) -> None:
    """Items ``0 (whole charger)``, ``1`` … ``connectors``: the index is the connector id."""
    if combo.count() == connectors + 1:
        return
    chosen = combo.currentIndex()
    combo.clear()
    combo.addItems(["0 (whole charger)", *(str(n) for n in range(1, connectors + 1))])
    combo.setCurrentIndex(min(max(chosen, 0), connectors))


def _date_time_edit(name: str, value: QDateTime) -> QDateTimeEdit:
    edit = QDateTimeEdit(value)
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setToolTip("Local time")
    return edit


def _utc(edit: QDateTimeEdit) -> datetime:
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)


def _local(ts: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(ts.timestamp()))


_RECURRENCE_S = {RecurrencyKind.DAILY: 86400, RecurrencyKind.WEEKLY: 7 * 86400}


def preview_span_s(profile: ChargingProfile) -> int:
    """How much of a schedule the preview draws: its duration, else one recurrence, else
    its last period and as long again (at least an hour)."""
    schedule = profile.schedule
    if schedule.duration_s is not None:
        return schedule.duration_s
    if profile.recurrency is not None:
        return _RECURRENCE_S[profile.recurrency]
    last = schedule.periods[-1].start_s
    return max(2 * last, last + 3600)


class ProfilePreview(QWidget):
    """One profile's schedule as a step line, from its start (a Relative profile's: the
    transaction's) over ``preview_span_s``; its validity is left out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.plot = calm_plot("profilePreview", min_height=200)
        self.line = self.plot.getPlotItem().plot(
            [], [], pen=calm_pen(Palette.TEXT, 2.0), connect="finite"
        )
        layout.addWidget(self.plot, 1)
        self.caption = role_label("caption")
        self.caption.setObjectName("profilePreviewCaption")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.points: tuple[list[float], list[float]] = ([], [])

    def show_profile(self, profile: ChargingProfile) -> None:
        schedule = profile.schedule
        span = preview_span_s(profile)
        start = schedule.start or utcnow()
        connector = 0 if profile.purpose is ChargingProfilePurpose.CHARGE_POINT_MAX else 1
        periods = composite_schedule(
            [InstalledProfile(connector, replace(profile, valid_from=None, valid_to=None))],
            connector,
            start,
            span,
            schedule.unit,
            transaction_start=start,
        )
        hours = span >= 3 * 3600
        xs, ys = step_points(periods, 0.0, float(span))
        if hours:
            xs = [x / 60.0 for x in xs]
        self.points = (xs, ys)
        self.line.setData(xs, ys)
        item = self.plot.getPlotItem()
        limits = [p.limit for p in schedule.periods]
        item.setYRange(0, (max(limits) or 1.0) * 1.2, padding=0.02)
        item.setXRange(0, span / (3600.0 if hours else 60.0), padding=0.02)
        origin = (
            "the start of the transaction"
            if profile.kind is ChargingProfileKind.RELATIVE
            else "the schedule start"
        )
        grey = Palette.TEXT_SECONDARY.name()
        item.setLabel("left", f"Limit ({schedule.unit.value})", color=grey)
        item.setLabel("bottom", "Hours" if hours else "Minutes", color=grey)
        repeat = (
            "" if profile.recurrency is None else f", repeated {profile.recurrency.value.lower()}"
        )
        self.caption.setText(
            f"From {origin}: {len(schedule.periods)} period(s) over "
            f"{formatting.duration(span)}{repeat}."
        )


class ChargingProfileDialog(QDialog):
    """Purpose, kind, unit, stack level, validity, and the periods of one profile."""

    def __init__(
        self,
        charger_id: str,
        connectors: int,
        profile_id: int,
        parent: QWidget | None = None,
        *,
        template: ProfileTemplate | None = None,
        taken_names: Collection[str] | None = None,
    ) -> None:
        """``taken_names`` not None: edit a library template (``template``, or a new one
        when None) instead of a profile for ``charger_id``; names must stay unique."""
        super().__init__(parent)
        self.setObjectName("chargingProfileDialog")
        self.template_mode = taken_names is not None
        self._taken = set(taken_names or ()) - ({template.name} if template else set())
        if self.template_mode:
            self.setWindowTitle("Charging profile template")
        else:
            self.setWindowTitle(f"{charger_id} — Set charging profile")
        self.setMinimumWidth(940)
        now = QDateTime.currentDateTime()
        now = now.addSecs(-now.time().second())  # whole minutes

        self.connector = QComboBox()
        self.connector.setObjectName("profileConnector")
        fill_connectors(self.connector, max(connectors, 0))
        self.connector.setCurrentIndex(1 if connectors else 0)
        self.profile_id = IntField(1, 2**31 - 1, profile_id)
        self.profile_id.setObjectName("profileId")
        self.purpose = self._combo("profilePurpose", [p.value for p in ChargingProfilePurpose])
        self.purpose.setCurrentText(ChargingProfilePurpose.TX_DEFAULT.value)
        self.stack_level = IntField(0, 99, 0)
        self.stack_level.setObjectName("profileStackLevel")
        self.kind = self._combo("profileKind", [k.value for k in ChargingProfileKind])
        self.recurrency = self._combo("profileRecurrency", [r.value for r in RecurrencyKind])
        self.start = _date_time_edit("profileStart", now)
        self.start.setToolTip("startSchedule, local time: the periods count from here")
        self.unit = self._combo("profileUnit", [u.value for u in ChargingRateUnit])
        self.unit.setToolTip("A: per phase; W: total")
        self.duration = IntField(1, MAX_PERIOD_START_MIN)
        self.duration.setObjectName("profileDuration")
        self.duration.setPlaceholderText("none: until the profile ends")
        self.valid_from_on = QCheckBox("From")
        self.valid_from_on.setObjectName("profileValidFromOn")
        self.valid_from = _date_time_edit("profileValidFrom", now)
        self.valid_to_on = QCheckBox("To")
        self.valid_to_on.setObjectName("profileValidToOn")
        self.valid_to = _date_time_edit("profileValidTo", now.addSecs(24 * 3600))

        self.periods = QTableWidget(0, 3)
        self.periods.setObjectName("profilePeriods")
        self.periods.setHorizontalHeaderLabels(["Start (min)", "Limit (A)", "Phases"])
        self.periods.verticalHeader().setVisible(False)
        self.periods.verticalHeader().setDefaultSectionSize(30)
        self.periods.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.periods.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.periods.setMinimumHeight(130)
        self.add_period = QPushButton("Add period")
        self.add_period.setObjectName("profileAddPeriod")
        self.remove_period = QPushButton("Remove period")
        self.remove_period.setObjectName("profileRemovePeriod")

        self.name = QLineEdit()
        self.name.setObjectName("profileName")
        self.name.setPlaceholderText("e.g. Night 16 A")
        self.description = QLineEdit()
        self.description.setObjectName("profileDescription")

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        if self.template_mode:
            form.addRow(role_label("caption", "Name"), self.name)
            form.addRow(role_label("caption", "Description"), self.description)
            self.connector.setParent(self)
            self.connector.hide()
        else:
            form.addRow(role_label("caption", "Connector"), self.connector)
        form.addRow(role_label("caption", "Profile id"), self.profile_id)
        form.addRow(role_label("caption", "Purpose"), self.purpose)
        form.addRow(role_label("caption", "Stack level"), self.stack_level)
        kind_row = QHBoxLayout()
        kind_row.setSpacing(8)
        kind_row.addWidget(self.kind, 1)
        kind_row.addWidget(role_label("caption", "repeats"))
        kind_row.addWidget(self.recurrency, 1)
        form.addRow(role_label("caption", "Kind"), kind_row)
        form.addRow(role_label("caption", "Schedule start"), self.start)
        form.addRow(role_label("caption", "Unit"), self.unit)
        duration_row = QHBoxLayout()
        duration_row.setSpacing(8)
        duration_row.addWidget(self.duration, 1)
        duration_row.addWidget(role_label("caption", "min"))
        form.addRow(role_label("caption", "Duration"), duration_row)
        validity = QHBoxLayout()
        validity.addWidget(self.valid_from_on)
        validity.addWidget(self.valid_from, 1)
        validity.addWidget(self.valid_to_on)
        validity.addWidget(self.valid_to, 1)
        form.addRow(role_label("caption", "Valid"), validity)

        period_buttons = QHBoxLayout()
        period_buttons.addStretch(1)
        period_buttons.addWidget(self.add_period)
        period_buttons.addWidget(self.remove_period)

        self.problem = role_label("caption")
        self.problem.setObjectName("profileProblem")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.confirm: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.confirm.setText("Save template" if self.template_mode else "Send profile")
        self.confirm.setObjectName("profileConfirm")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self.preview = ProfilePreview()
        self.preview.setMinimumWidth(360)

        editor = QVBoxLayout()
        editor.setSpacing(8)
        if self.template_mode:
            editor.addWidget(role_label("title", "Charging profile template"))
            editor.addWidget(role_label("subtitle", "Library · uploaded to chargers later"))
        else:
            editor.addWidget(role_label("title", "Set charging profile"))
            editor.addWidget(role_label("subtitle", f"{charger_id} · SetChargingProfile"))
        editor.addLayout(form)
        editor.addWidget(role_label("section", "Periods"))
        editor.addWidget(self.periods, 1)
        editor.addLayout(period_buttons)
        chart = QVBoxLayout()
        chart.addWidget(role_label("section", "Schedule"))
        chart.addWidget(self.preview, 1)
        columns = QHBoxLayout()
        columns.setSpacing(14)
        columns.addLayout(editor, 3)
        columns.addLayout(chart, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(columns, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        if template is not None:
            self.load(template.profile)
            self.name.setText(template.name)
            self.description.setText(template.description)
        else:
            self.append_period(0, DEFAULT_LIMITS[ChargingRateUnit.AMPS])
        self.name.textChanged.connect(self._check)
        for combo in (self.connector, self.purpose, self.kind, self.recurrency, self.unit):
            combo.currentTextChanged.connect(self._check)
        for field in (self.profile_id, self.stack_level, self.duration):
            field.textChanged.connect(self._check)
        for edit in (self.start, self.valid_from, self.valid_to):
            edit.dateTimeChanged.connect(self._check)
        for box in (self.valid_from_on, self.valid_to_on):
            box.toggled.connect(self._check)
        self.unit.currentTextChanged.connect(self._unit_changed)
        self.add_period.clicked.connect(self._add_after_last)
        self.remove_period.clicked.connect(self._remove_selected)
        self._check()

    @staticmethod
    def _combo(name: str, items: list[str]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItems(items)
        return combo

    # ---- periods

    def append_period(self, start_min: int, limit: float, phases: int | None = None) -> None:
        """A period row: start in minutes from the schedule's start, limit in the unit."""
        row = self.periods.rowCount()
        self.periods.insertRow(row)
        start = IntField(0, MAX_PERIOD_START_MIN, start_min)
        limit_box = DecimalField(0.0, 1_000_000.0, limit)
        phase_box = QComboBox()
        phase_box.addItems(["default (3)" if n is None else str(n) for n in PHASES])
        phase_box.setCurrentIndex(PHASES.index(phases))
        self.periods.setCellWidget(row, 0, start)
        self.periods.setCellWidget(row, 1, limit_box)
        self.periods.setCellWidget(row, 2, phase_box)
        start.textChanged.connect(self._check)
        limit_box.textChanged.connect(self._check)
        phase_box.currentIndexChanged.connect(self._check)
        self._check()

    def period_widgets(self, row: int) -> tuple[IntField, DecimalField, QComboBox]:
        start = self.periods.cellWidget(row, 0)
        limit = self.periods.cellWidget(row, 1)
        phases = self.periods.cellWidget(row, 2)
        assert isinstance(start, IntField)
        assert isinstance(limit, DecimalField)
        assert isinstance(phases, QComboBox)
        return start, limit, phases

    def _add_after_last(self) -> None:
        rows = self.periods.rowCount()
        if rows == 0:
            self.append_period(0, DEFAULT_LIMITS[self._unit()])
            return
        start, limit, _ = self.period_widgets(rows - 1)
        self.append_period((start.value() or 0) + 60, limit.value() or 0.0)

    def _remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.periods.selectedIndexes()}, reverse=True)
        for row in rows or [self.periods.rowCount() - 1]:
            if row >= 0:
                self.periods.removeRow(row)
        self._check()

    def _unit_changed(self) -> None:
        """The limit column names the unit; a fresh dialog's default limit follows it."""
        self.periods.setHorizontalHeaderLabels(
            ["Start (min)", f"Limit ({self._unit().value})", "Phases"]
        )
        if self.periods.rowCount() == 1:
            _, limit, _ = self.period_widgets(0)
            if limit.value() in (None, *DEFAULT_LIMITS.values()):
                limit.setValue(DEFAULT_LIMITS[self._unit()])

    # ---- the profile

    def _unit(self) -> ChargingRateUnit:
        return ChargingRateUnit(self.unit.currentText())

    def chosen_connector(self) -> int:
        return self.connector.currentIndex()

    def chosen_profile(self) -> ChargingProfile:
        """The profile as entered; ValueError says what is wrong with it."""
        purpose = ChargingProfilePurpose(self.purpose.currentText())
        connector = self.chosen_connector()
        if not self.template_mode:  # a template's connector is chosen at upload
            if purpose is ChargingProfilePurpose.CHARGE_POINT_MAX and connector != 0:
                raise ValueError("a ChargePointMaxProfile goes on connector 0 (whole charger)")
            if purpose is ChargingProfilePurpose.TX and connector == 0:
                raise ValueError("a TxProfile goes on the connector of a running transaction")
        kind = ChargingProfileKind(self.kind.currentText())
        rows = []
        for row in range(self.periods.rowCount()):
            start, limit, phases = self.period_widgets(row)
            start_min, value = start.value(), limit.value()
            if start_min is None or value is None:
                raise ValueError(f"period {row + 1} needs a start and a limit")
            rows.append((start_min, value, PHASES[phases.currentIndex()]))
        periods = tuple(
            SchedulePeriod(start_min * 60, value, phases)
            for start_min, value, phases in sorted(rows, key=lambda r: r[0])
        )
        profile_id, stack_level = self.profile_id.value(), self.stack_level.value()
        if profile_id is None:
            raise ValueError("the profile needs an id (1 or more)")
        if stack_level is None:
            raise ValueError("the stack level is a number from 0 to 99")
        if self.duration.text() and self.duration.value() is None:
            raise ValueError("the duration is a number of minutes (empty: none)")
        duration_min = self.duration.value()
        schedule = ChargingSchedule(
            unit=self._unit(),
            periods=periods,
            duration_s=duration_min * 60 if duration_min else None,
            start=None if kind is ChargingProfileKind.RELATIVE else _utc(self.start),
        )
        return ChargingProfile(
            profile_id=profile_id,
            stack_level=stack_level,
            purpose=purpose,
            kind=kind,
            schedule=schedule,
            recurrency=(
                RecurrencyKind(self.recurrency.currentText())
                if kind is ChargingProfileKind.RECURRING
                else None
            ),
            valid_from=_utc(self.valid_from) if self.valid_from_on.isChecked() else None,
            valid_to=_utc(self.valid_to) if self.valid_to_on.isChecked() else None,
        )

    def chosen_template(self) -> ProfileTemplate:
        """The template as entered (template mode); ValueError says what is wrong."""
        name = self.name.text().strip()
        if not name:
            raise ValueError("the template needs a name")
        if name in self._taken:
            raise ValueError(f"a template named {name!r} is already in the library")
        return ProfileTemplate(name, self.chosen_profile(), self.description.text().strip())

    def load(self, profile: ChargingProfile) -> None:
        """Show ``profile`` in the fields (period starts in whole minutes)."""
        self.profile_id.setValue(profile.profile_id)
        self.stack_level.setValue(profile.stack_level)
        self.purpose.setCurrentText(profile.purpose.value)
        self.kind.setCurrentText(profile.kind.value)
        if profile.recurrency is not None:
            self.recurrency.setCurrentText(profile.recurrency.value)
        schedule = profile.schedule
        if schedule.start is not None:
            self.start.setDateTime(_local(schedule.start))
        self.unit.setCurrentText(schedule.unit.value)
        self.duration.setValue(None if schedule.duration_s is None else schedule.duration_s // 60)
        for box, edit, ts in (
            (self.valid_from_on, self.valid_from, profile.valid_from),
            (self.valid_to_on, self.valid_to, profile.valid_to),
        ):
            box.setChecked(ts is not None)
            if ts is not None:
                edit.setDateTime(_local(ts))
        self.periods.setRowCount(0)
        for period in schedule.periods:
            self.append_period(period.start_s // 60, period.limit, period.number_phases)

    def _check(self) -> None:
        kind = ChargingProfileKind(self.kind.currentText())
        self.recurrency.setEnabled(kind is ChargingProfileKind.RECURRING)
        self.start.setEnabled(kind is not ChargingProfileKind.RELATIVE)
        self.valid_from.setEnabled(self.valid_from_on.isChecked())
        self.valid_to.setEnabled(self.valid_to_on.isChecked())
        self.remove_period.setEnabled(self.periods.rowCount() > 1)
        try:
            profile = self.chosen_profile()
            if self.template_mode:
                self.chosen_template()
        except ValueError as invalid:
            verb = "save" if self.template_mode else "send"
            self.problem.setText(f"Cannot {verb}: {invalid}.")
            set_emphasis(self.problem, Emphasis.NOTABLE)
            self.confirm.setEnabled(False)
            return
        self.preview.show_profile(profile)
        self.problem.setText(_explain(kind))
        set_emphasis(self.problem, Emphasis.NORMAL)
        self.confirm.setEnabled(True)


def _explain(kind: ChargingProfileKind) -> str:
    if kind is ChargingProfileKind.RELATIVE:
        return "Periods count from the start of the transaction."
    if kind is ChargingProfileKind.RECURRING:
        return "Periods count from the schedule start, repeated every day or week."
    return "Periods count from the schedule start."
