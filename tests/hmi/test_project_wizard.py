"""The project wizard: pages filled in code, finished, the project loads."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from evsuper.hmi.dialogs.project_wizard import ProjectWizard, run_wizard
from evsuper.project.generate import Params, create_project
from evsuper.project.loader import load_project
from evsuper.project.model import ChargerKind
from evsuper.project.template import load_template
from evsuper.users.permissions import Role


def open_wizard(qtbot: QtBot, directory: Path, *, adding: bool = False) -> ProjectWizard:
    wizard = ProjectWizard(directory, adding=adding)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def test_a_new_project_in_a_few_pages(
    qtbot: QtBot, themed_app: QApplication, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, tmp_path / "depot")
    wizard.site_name.setText("Depot Est")
    wizard.site_id.setText("EST")
    assert wizard.validateCurrentPage()
    wizard.next()
    wizard.template_box.setCurrentText("depot-dc")
    wizard.type_box.setCurrentIndex(1)  # dc50
    wizard.count.setValue(25)
    wizard.next()
    assert wizard.preview.text() == "DC-001 … DC-025 in 3 areas"
    wizard.by_count.setChecked(True)
    wizard.area_count.setValue(2)
    assert wizard.preview.text() == "DC-001 … DC-025 in 2 areas"
    wizard.next()  # protocol: OCPP 1.6J, the only one
    wizard.next()
    assert (wizard.connectors.value(), wizard.power.value()) == (1, 50.0)
    wizard.power.setValue(60.0)
    wizard.next()
    wizard.sqlite_file.setText("depot.sqlite")
    wizard.next()
    wizard.password.setText("long-enough")
    wizard.again.setText("different!")
    assert not wizard.validateCurrentPage()
    assert wizard.error.text() == "The two passwords differ."
    wizard.again.setText("long-enough")
    assert wizard.validateCurrentPage()
    wizard.accept()

    assert wizard.result() == ProjectWizard.DialogCode.Accepted
    project = load_project(tmp_path / "depot")
    assert (project.sites[0].id, project.sites[0].name) == ("EST", "Depot Est")
    assert [sum(c.area == a.id for c in project.chargers) for a in project.areas] == [13, 12]
    assert {(c.kind, c.connectors, c.max_power_kw) for c in project.chargers} == {
        (ChargerKind.DC, 1, 60.0)
    }
    assert project.archive.url == "sqlite:///depot.sqlite"
    assert [(u.name, u.role) for u in project.initial_users] == [("admin", Role.ADMIN)]
    assert "long-enough" not in project.file.read_text()


def test_a_bad_pattern_keeps_the_naming_page(
    qtbot: QtBot, themed_app: QApplication, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, tmp_path / "p")
    wizard.next()
    wizard.next()
    wizard.id_pattern.setText("CP")
    assert not wizard.validateCurrentPage()
    assert "duplicate ids" in wizard.error.text()


def test_add_bollards_mode(qtbot: QtBot, themed_app: QApplication, tmp_path: Path) -> None:
    site = tmp_path / "p"
    create_project(site, load_template("public-ac"), Params(bollards=30))
    wizard = open_wizard(qtbot, site, adding=True)
    wizard.count.setValue(4)
    wizard.next()
    wizard.area_box.setCurrentText("LEVEL-2")
    wizard.next()
    wizard.next()
    wizard.accept()

    assert wizard.result_text == "4 bollards added to LEVEL-2: PK-031 … PK-034"
    assert len(load_project(site).chargers) == 34


def test_run_wizard_cancelled_writes_nothing(themed_app: QApplication, tmp_path: Path) -> None:
    def cancel() -> None:
        wizard = QApplication.activeModalWidget()
        assert isinstance(wizard, ProjectWizard)
        wizard.reject()

    QTimer.singleShot(0, cancel)
    assert run_wizard(tmp_path / "p") is None
    assert not (tmp_path / "p").exists()
