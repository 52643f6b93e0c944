"""The project wizard: a new project from a template in a few pages, or more bollards in an
existing one. It calls the same generator as ``evsuper new`` and ``evsuper add-bollards``."""

from __future__ import annotations

import getpass
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QWidget,
    QWizard,
    QWizardPage,
)

from evsuper.hmi.theme import apply_theme, font
from evsuper.project.generate import (
    MAX_BOLLARDS,
    GeneratorError,
    NewUser,
    Params,
    create_project,
    generate,
    numbers_in_use,
)
from evsuper.project.integrate import add_bollards
from evsuper.project.loader import ProjectError, load_project
from evsuper.project.template import Template, available_templates, load_template
from evsuper.users.permissions import Role
from evsuper.users.store import MIN_PASSWORD_LENGTH, hash_password

PROTOCOLS = {"ocpp16": "OCPP 1.6J (WebSocket)"}


def _page(title: str, subtitle: str) -> tuple[QWizardPage, QFormLayout]:
    page = QWizardPage()
    page.setTitle(title)
    page.setSubTitle(subtitle)
    form = QFormLayout(page)
    return page, form


def _spin(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    return box


class ProjectWizard(QWizard):
    """New project in ``directory`` (``adding`` False) or bollards added to the project
    already there (``adding`` True). ``result_text`` says what was done once accepted."""

    def __init__(self, directory: Path, *, adding: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.directory = directory
        self.adding = adding
        self.result_text = ""
        self.setWindowTitle("evsuper — add bollards" if adding else "evsuper — new project")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        existing = load_project(directory) if adding else None
        self.areas = [a.id for a in existing.areas] if existing else []
        self.charger_ids = [c.id for c in existing.chargers] if existing else []
        self.site_page = None if adding else self._site_page()
        self.naming_page = self._naming_page()
        self.users_page = None if adding else self._users_page()
        pages = [
            self.site_page,
            self._bollards_page(),
            self.naming_page,
            self._protocol_page(),
            self._power_page(),
            None if adding else self._archive_page(),
            self.users_page,
        ]
        for page in pages:
            if page is not None:
                self.addPage(page)
        self.error = QLabel()
        self.error.setObjectName("wizardError")
        self.error.setWordWrap(True)
        self.error.setFont(font(9.5, bold=True))  # no alarm colour: it is no alarm
        self._on_template()

    # pages ---------------------------------------------------------------------------------

    def _site_page(self) -> QWizardPage:
        page, form = _page("Site", "The supervised site and the folder of its project.")
        self.folder = QLineEdit(str(self.directory))
        self.site_name = QLineEdit(self.directory.name)
        self.site_id = QLineEdit("SITE")
        form.addRow("Project folder", self.folder)
        form.addRow("Site name", self.site_name)
        form.addRow("Site id", self.site_id)
        return page

    def _bollards_page(self) -> QWizardPage:
        page, form = _page("Bollards", "A template gives the settings, bollard types and names.")
        self.template_box = QComboBox()
        names = available_templates(self.directory if self.adding else None)
        self.template_box.addItems(names)
        self.template_box.setCurrentText(self._likely_template(names))
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.type_box = QComboBox()
        self.count = _spin(1, MAX_BOLLARDS, 1 if self.adding else 20)
        form.addRow("Template", self.template_box)
        form.addRow("", self.description)
        form.addRow("Bollard type", self.type_box)
        form.addRow("Number of bollards", self.count)
        self.template_box.currentTextChanged.connect(self._on_template)
        self.type_box.currentIndexChanged.connect(self._on_type)
        self.count.valueChanged.connect(self._update_preview)
        return page

    def _naming_page(self) -> QWizardPage:
        page, form = _page("Naming and areas", "Fields: {n} number, {a} area, {i} in the area.")
        self.id_pattern = QLineEdit()
        form.addRow("Charge point ids", self.id_pattern)
        if self.adding:
            self.area_box = QComboBox()
            self.area_box.addItems(self.areas)
            form.addRow("Add to area", self.area_box)
        else:
            self.by_count = QRadioButton("Number of areas")
            self.by_size = QRadioButton("Bollards per area")
            group = QButtonGroup(page)
            group.addButton(self.by_size)
            group.addButton(self.by_count)
            self.by_size.setChecked(True)
            self.per_area = _spin(1, MAX_BOLLARDS, 20)
            self.area_count = _spin(1, MAX_BOLLARDS, 1)
            form.addRow(self.by_size, self.per_area)
            form.addRow(self.by_count, self.area_count)
            self.area_count.setEnabled(False)
            self.by_count.toggled.connect(self.area_count.setEnabled)
            self.by_size.toggled.connect(self.per_area.setEnabled)
            for box in (self.per_area, self.area_count):
                box.valueChanged.connect(self._update_preview)
            self.by_count.toggled.connect(self._update_preview)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        form.addRow("Preview", self.preview)
        self.id_pattern.textChanged.connect(self._update_preview)
        return page

    def _protocol_page(self) -> QWizardPage:
        page, form = _page("Protocol", "How the bollards of this group talk to evsuper.")
        self.protocol_box = QComboBox()
        for key, text in PROTOCOLS.items():
            self.protocol_box.addItem(text, key)
        form.addRow("Protocol", self.protocol_box)
        form.addRow("", QLabel("OCPP 2.0.1 is not supported yet."))
        return page

    def _power_page(self) -> QWizardPage:
        page, form = _page("Power limits", "Per bollard; the allocator never exceeds them.")
        self.connectors = _spin(1, 16, 2)
        self.power = QDoubleSpinBox()
        self.power.setRange(1.0, 1000.0)
        self.power.setDecimals(1)
        self.power.setSuffix(" kW")
        form.addRow("Connectors per bollard", self.connectors)
        form.addRow("Power limit per connector", self.power)
        return page

    def _archive_page(self) -> QWizardPage:
        page, form = _page("Archive", "Where transactions, meter values and alarms are kept.")
        self.use_sqlite = QRadioButton("SQLite file in the project folder")
        self.use_postgres = QRadioButton("PostgreSQL server")
        group = QButtonGroup(page)
        group.addButton(self.use_sqlite)
        group.addButton(self.use_postgres)
        self.use_sqlite.setChecked(True)
        self.sqlite_file = QLineEdit("archive.sqlite")
        self.postgres_url = QLineEdit()
        self.postgres_url.setPlaceholderText("postgresql+psycopg://user@host:5432/evsuper")
        form.addRow(self.use_sqlite, self.sqlite_file)
        form.addRow(self.use_postgres, self.postgres_url)
        return page

    def _users_page(self) -> QWizardPage:
        page, form = _page("Users", "The administrator; add others later (evsuper users).")
        self.admin_name = QLineEdit("admin")
        self.password = QLineEdit()
        self.again = QLineEdit()
        for box in (self.password, self.again):
            box.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Administrator", self.admin_name)
        form.addRow("Password", self.password)
        form.addRow("Again", self.again)
        return page

    # behaviour -----------------------------------------------------------------------------

    def _likely_template(self, names: list[str]) -> str:
        """When adding, the template naming most bollards already there; else public-ac."""
        if not self.adding:
            return "public-ac"

        def matches(name: str) -> int:
            pattern = load_template(name, self.directory).naming.id_pattern
            return len(numbers_in_use(pattern, self.charger_ids))

        return max(names, key=matches)

    def template(self) -> Template:
        return load_template(self.template_box.currentText(), self.directory)

    def _on_template(self) -> None:
        template = self.template()
        self.description.setText(template.description)
        self.type_box.blockSignals(True)
        self.type_box.clear()
        for kind in template.bollard_types:
            text = f"{kind.name}: {kind.kind.value.upper()} {kind.connectors} x "
            self.type_box.addItem(text + f"{kind.max_power_kw:g} kW", kind.name)
        self.type_box.blockSignals(False)
        self.id_pattern.setText(template.naming.id_pattern)
        if not self.adding:
            self.per_area.setValue(template.naming.per_area or MAX_BOLLARDS)
        self._on_type()

    def _on_type(self) -> None:
        kind = self.template().bollard_type(self.type_box.currentData())
        self.connectors.setValue(kind.connectors)
        self.power.setValue(kind.max_power_kw)

    def params(self) -> Params:
        """The generator's parameters as the pages say."""
        params = Params(
            bollards=self.count.value(),
            id_pattern=self.id_pattern.text().strip() or None,
            bollard_type=self.type_box.currentData(),
            connectors=self.connectors.value(),
            power_kw=self.power.value(),
            protocol=self.protocol_box.currentData(),
        )
        if self.adding:
            return params
        archive = (
            f"sqlite:///{self.sqlite_file.text().strip()}"
            if self.use_sqlite.isChecked()
            else self.postgres_url.text().strip()
        )
        return replace(
            params,
            site_name=self.site_name.text().strip(),
            site_id=self.site_id.text().strip(),
            areas=self.area_count.value() if self.by_count.isChecked() else None,
            per_area=self.per_area.value() if self.by_size.isChecked() else None,
            archive_url=archive,
        )

    def initializePage(self, page_id: int) -> None:
        super().initializePage(page_id)
        self._show_error(self.currentPage(), "")

    def validateCurrentPage(self) -> bool:
        page = self.currentPage()
        problem = self._problem(page)
        self._show_error(page, problem or "")
        return problem is None and super().validateCurrentPage()

    def _problem(self, page: QWizardPage) -> str | None:
        """What keeps ``page`` from being left, or None."""
        if page is self.site_page:
            if (Path(self.folder.text()) / "project.toml").exists():
                return "This folder already holds a project: choose another one."
            if not self.site_name.text().strip():
                return "The site needs a name."
        if page is self.users_page:
            if len(self.password.text()) < MIN_PASSWORD_LENGTH:
                return f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
            if self.password.text() != self.again.text():
                return "The two passwords differ."
        if page is not self.site_page and not self.adding:
            try:
                generate(self.template(), self.params())
            except GeneratorError as exc:
                return str(exc)
        return None

    def _update_preview(self) -> None:
        """The ids the bollards will get, on the naming page."""
        pattern = self.id_pattern.text().strip()
        count = self.count.value()
        start = max(numbers_in_use(pattern, self.charger_ids), default=0) + 1
        end = start + count - 1
        try:
            first = pattern.format(start, n=start, a=1, i=1, site="SITE")
            last = pattern.format(end, n=end, a=1, i=count, site="SITE")
        except (KeyError, IndexError, ValueError) as exc:
            self.preview.setText(f"bad pattern: {exc}")
            return
        if self.adding:
            there = len(self.charger_ids)
            self.preview.setText(f"{first} … {last} (after the {there} bollards already there)")
            return
        per_area = self.per_area.value()
        areas = self.area_count.value() if self.by_count.isChecked() else -(-count // per_area)
        self.preview.setText(f"{first} … {last} in {areas} area{'s' if areas > 1 else ''}")

    def _show_error(self, page: QWizardPage | None, text: str) -> None:
        if page is not None and text:
            layout = page.layout()
            assert isinstance(layout, QFormLayout)
            layout.addRow(self.error)
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def accept(self) -> None:
        """Write the project (or the new bollards); an error stays on the last page."""
        try:
            if self.adding:
                area = self.area_box.currentText()
                ids = add_bollards(
                    self.directory, self.template(), self.params(), area, getpass.getuser()
                )
                self.result_text = f"{len(ids)} bollards added to {area}: {ids[0]} … {ids[-1]}"
            else:
                admin = NewUser(
                    self.admin_name.text().strip(), Role.ADMIN, hash_password(self.password.text())
                )
                params = replace(self.params(), users=(admin,))
                self.directory = Path(self.folder.text())
                project = create_project(self.directory, self.template(), params)
                self.result_text = f"{len(project.chargers)} bollards written to {project.file}"
        except (GeneratorError, ProjectError, FileExistsError, OSError, ValueError) as exc:
            self._show_error(self.currentPage(), str(exc))
            return
        super().accept()


def run_wizard(directory: Path, *, adding: bool = False) -> Path | None:
    """Show the wizard before the HMI starts; the project folder once done, None if
    cancelled."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_theme(app)
    wizard = ProjectWizard(directory, adding=adding)
    if not wizard.exec():
        return None
    print(wizard.result_text)
    return wizard.directory
