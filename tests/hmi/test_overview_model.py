from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QModelIndex, Qt

from evsuper.core.domain import CommState, ConnectorStatus, RegistrationStatus
from evsuper.core.tags import Sample, SystemTag, system_tag
from evsuper.hmi.models.overview import STATE_ROLE, ChargerState, OverviewModel, SiteSummary
from evsuper.project.model import Project


class Recorder:
    """Collects (first row, last row) of every dataChanged."""

    def __init__(self, model: OverviewModel) -> None:
        self.ranges: list[tuple[int, int]] = []
        self.summaries: list[SiteSummary] = []
        model.dataChanged.connect(self._on_changed)
        model.summaryChanged.connect(self.summaries.append)

    def _on_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        self.ranges.append((top_left.row(), bottom_right.row()))

    @property
    def rows(self) -> set[int]:
        return {row for first, last in self.ranges for row in range(first, last + 1)}


@pytest.fixture
def model(qapp, project: Project) -> OverviewModel:
    return OverviewModel(project)


def test_rows_follow_the_project(model: OverviewModel, project: Project) -> None:
    assert model.rowCount() == 12
    ids = [model.data(model.index(row), Qt.ItemDataRole.DisplayRole) for row in range(12)]
    assert ids == [c.id for c in project.chargers]
    state = model.data(model.index(4), STATE_ROLE)
    assert isinstance(state, ChargerState)
    assert state.charger_id == "CP-005"
    assert [c.connector_id for c in state.connectors] == [1, 2]
    assert state.comm is CommState.UNKNOWN
    assert model.summary == SiteSummary(total=12)


def test_apply_updates_state_and_signals_only_changed_rows(model: OverviewModel, batch) -> None:
    recorder = Recorder(model)
    batch.online("CP-002").online("CP-005").charging("CP-005", 2, 7001, 11.0)
    batch.charger("CP-005", serial="SN-42").connector("CP-005", 2, error_info="note")

    model.apply(batch.samples)

    assert recorder.rows == {1, 4}
    state = model.state("CP-005")
    assert state is not None
    assert state.online and state.registration is RegistrationStatus.ACCEPTED
    assert state.serial == "SN-42"
    c2 = state.connectors[1]
    assert c2.status is ConnectorStatus.CHARGING
    assert (c2.transaction_id, c2.power_kw, c2.energy_kwh, c2.soc) == (7001, 11.0, 4.2, 55.0)
    assert (c2.id_tag, c2.error_info) == ("BADGE-0001", "note")
    assert state.connectors[0].status is ConnectorStatus.AVAILABLE
    untouched = model.state("CP-001")
    assert untouched is not None and untouched.comm is CommState.UNKNOWN


def test_contiguous_rows_are_signalled_as_ranges(model: OverviewModel, batch) -> None:
    recorder = Recorder(model)
    for cid in ("CP-001", "CP-002", "CP-003", "CP-006"):
        batch.online(cid)
    model.apply(batch.samples)
    assert sorted(recorder.ranges) == [(0, 2), (5, 5)]


def test_same_values_again_signal_nothing(model: OverviewModel, batch) -> None:
    batch.online("CP-003").charging("CP-003", 1, 12, 7.4)
    model.apply(batch.samples)
    recorder = Recorder(model)
    model.apply(dict(batch.samples))
    assert recorder.ranges == [] and recorder.summaries == []


def test_plain_strings_from_a_driver_become_enums(model: OverviewModel) -> None:
    model.apply(
        {
            "CP-001/comm": Sample("online"),
            "CP-001/C1/status": Sample("Faulted"),
            "CP-001/C1/power_kw": Sample(3),
        }
    )
    state = model.state("CP-001")
    assert state is not None
    assert state.comm is CommState.ONLINE
    assert state.connectors[0].status is ConnectorStatus.FAULTED
    assert state.connectors[0].power_kw == 3.0 and isinstance(state.connectors[0].power_kw, float)


def test_tags_outside_the_overview_are_ignored(model: OverviewModel, caplog) -> None:
    recorder = Recorder(model)
    with caplog.at_level(logging.WARNING):
        model.apply(
            {
                "CP-999/comm": Sample(CommState.ONLINE),  # not in the project
                "CP-001/C3/status": Sample(ConnectorStatus.CHARGING),  # only 2 connectors
                "CP-001/C1/temperature": Sample(40.0),  # not an overview tag
                system_tag(SystemTag.ARCHIVE_BACKLOG): Sample(5),
                "CP-002/C1/status": Sample("Exploded"),  # not a status
                "CP-002/C2/status": Sample(ConnectorStatus.PREPARING),
            }
        )
    assert recorder.rows == {1}
    state = model.state("CP-002")
    assert state is not None
    assert state.connectors[0].status is None
    assert state.connectors[1].status is ConnectorStatus.PREPARING
    assert "CP-002/C1/status" in caplog.text


def test_summary_counts_online_charging_faulted_and_power(model: OverviewModel, batch) -> None:
    recorder = Recorder(model)
    for cid in ("CP-001", "CP-002", "CP-003", "CP-004"):
        batch.online(cid)
    batch.charging("CP-001", 1, 1, 11.0).charging("CP-001", 2, 2, 7.0)
    batch.charging("CP-002", 1, 3, 3.5)
    batch.connector("CP-003", 2, status=ConnectorStatus.FAULTED, error_code="GroundFailure")
    batch.charger("CP-004", status=ConnectorStatus.FAULTED)
    model.apply(batch.samples)

    expected = SiteSummary(total=12, online=4, charging=3, faulted=2, power_kw=21.5)
    assert model.summary == expected
    assert recorder.summaries == [expected]

    model.apply({"CP-001/comm": Sample(CommState.OFFLINE)})
    assert model.summary == SiteSummary(total=12, online=3, charging=1, faulted=2, power_kw=3.5)
    assert len(recorder.summaries) == 2


class RowInserts:
    """Collects (first, last) of every rowsInserted."""

    def __init__(self, model: OverviewModel) -> None:
        self.ranges: list[tuple[int, int]] = []
        model.rowsInserted.connect(lambda _parent, first, last: self.ranges.append((first, last)))


def pending(charger_id: str) -> dict:
    """The tags of an unknown charger that booted and was answered Pending."""
    return {
        f"{charger_id}/comm": Sample(CommState.ONLINE),
        f"{charger_id}/vendor": Sample("Alfen"),
        f"{charger_id}/model": Sample("Eve Single"),
        f"{charger_id}/serial": Sample("ACE001"),
        f"{charger_id}/firmware": Sample("6.3.1"),
        f"{charger_id}/registration": Sample(RegistrationStatus.PENDING),
    }


def test_a_pending_charger_is_not_a_row(model: OverviewModel) -> None:
    recorder, inserts = Recorder(model), RowInserts(model)
    unlisted: list[None] = []
    model.unlistedChanged.connect(lambda: unlisted.append(None))

    model.apply(pending("NEWCOMER"))
    model.apply({"INTRUDER/registration": Sample(RegistrationStatus.REJECTED)})

    assert model.rowCount() == 12 and model.row_of("NEWCOMER") is None
    assert model.state("NEWCOMER") is None
    assert inserts.ranges == [] and recorder.ranges == [] and recorder.summaries == []
    assert len(unlisted) == 2
    [newcomer, intruder] = model.unlisted()
    assert (newcomer.charger_id, newcomer.registration) == ("NEWCOMER", RegistrationStatus.PENDING)
    assert (newcomer.vendor, newcomer.serial, newcomer.online) == ("Alfen", "ACE001", True)
    assert intruder.registration is RegistrationStatus.REJECTED
    assert model.summary == SiteSummary(total=12)


def test_engine_tags_make_no_charger(model: OverviewModel) -> None:
    model.apply(
        {
            system_tag(SystemTag.ARCHIVE_STATE): Sample("ok"),
            system_tag(SystemTag.ARCHIVE_BACKLOG): Sample(3),
            "CP-999/temperature": Sample(40.0),  # a name the overview does not show
        }
    )
    assert model.unlisted() == []


def test_an_accepted_unknown_charger_becomes_the_last_row(model: OverviewModel) -> None:
    model.apply(pending("NEWCOMER"))
    recorder, inserts = Recorder(model), RowInserts(model)

    model.apply({"NEWCOMER/registration": Sample(RegistrationStatus.ACCEPTED)})

    assert inserts.ranges == [(12, 12)]
    assert model.rowCount() == 13 and model.row_of("NEWCOMER") == 12
    assert model.data(model.index(12), Qt.ItemDataRole.DisplayRole) == "NEWCOMER"
    state = model.state_at(12)
    # What arrived while it was pending is kept: comm is not published again on reboot.
    assert state.online and state.vendor == "Alfen"
    assert [c.connector_id for c in state.connectors] == [1]
    assert model.unlisted() == []
    assert recorder.summaries == [SiteSummary(total=13, online=1)]

    model.apply({"NEWCOMER/C1/status": Sample(ConnectorStatus.CHARGING)})
    assert recorder.rows == {12}
    assert model.summary.charging == 1


def test_accepted_on_first_sight_is_a_row_at_once(model: OverviewModel, batch) -> None:
    inserts = RowInserts(model)
    batch.online("AUTO-1", connectors=2).online("AUTO-2", connectors=1)
    model.apply(batch.samples)
    assert inserts.ranges == [(12, 13)]
    assert [model.state_at(row).charger_id for row in (12, 13)] == ["AUTO-1", "AUTO-2"]
    auto_1 = model.state("AUTO-1")
    assert (
        auto_1 is not None
        and [c.status for c in auto_1.connectors] == [ConnectorStatus.AVAILABLE] * 2
    )


def test_connectors_of_a_charger_added_at_run_time_grow(model: OverviewModel) -> None:
    model.apply({"NEWCOMER/registration": Sample(RegistrationStatus.ACCEPTED)})
    recorder = Recorder(model)
    widths: list[int] = []
    model.maxConnectorsChanged.connect(widths.append)
    assert model.max_connectors == 2  # the project's bollards

    model.apply({"NEWCOMER/C3/status": Sample(ConnectorStatus.AVAILABLE)})

    state = model.state("NEWCOMER")
    assert state is not None
    assert [c.connector_id for c in state.connectors] == [1, 2, 3]
    assert [c.status for c in state.connectors] == [None, None, ConnectorStatus.AVAILABLE]
    assert recorder.rows == {12}
    assert model.max_connectors == 3 and widths == [3]

    model.apply(
        {
            "NEWCOMER/C2/status": Sample(ConnectorStatus.PREPARING),  # no growth
            "NEWCOMER/C17/status": Sample(ConnectorStatus.AVAILABLE),  # beyond any charger
            "NEWCOMER/C9/temperature": Sample(30.0),  # not a connector tag the overview keeps
            "CP-001/C3/status": Sample(ConnectorStatus.AVAILABLE),  # the project says 2
        }
    )
    assert len(state.connectors) == 3 and widths == [3]
    project_charger = model.state("CP-001")
    assert project_charger is not None and len(project_charger.connectors) == 2


def test_reservation_id_is_kept_and_cleared(model: OverviewModel, batch) -> None:
    model.apply(batch.online("CP-003").samples)
    recorder = Recorder(model)

    model.apply(
        {
            "CP-003/C2/status": Sample(ConnectorStatus.RESERVED),
            "CP-003/C2/reservation_id": Sample(17),
        }
    )
    state = model.state("CP-003")
    assert state is not None
    assert [c.reservation_id for c in state.connectors] == [None, 17]
    assert state.connectors[1].status is ConnectorStatus.RESERVED
    assert recorder.rows == {2}

    model.apply({"CP-003/C2/reservation_id": Sample(None)})
    assert state.connectors[1].reservation_id is None
    assert recorder.ranges == [(2, 2), (2, 2)]


def test_local_list_version_of_the_charger_and_the_project(
    model: OverviewModel, project: Project, batch
) -> None:
    model.apply(batch.online("CP-004").samples)
    recorder = Recorder(model)
    assert model.project_list_version == project.ocpp.local_list_version
    state = model.state("CP-004")
    assert state is not None and state.local_list_version is None

    model.apply({"CP-004/local_list_version": Sample(3)})
    assert state.local_list_version == 3
    assert recorder.ranges == [(3, 3)]
    model.apply({"CP-004/local_list_version": Sample("abc")})  # logged, kept
    assert state.local_list_version == 3
    assert recorder.ranges == [(3, 3)]


def test_firmware_and_diagnostics_status_are_kept_and_cleared(model: OverviewModel, batch) -> None:
    model.apply(batch.online("CP-006").samples)
    recorder = Recorder(model)
    state = model.state("CP-006")
    assert state is not None
    assert (state.firmware_status, state.diagnostics_status) == (None, None)

    model.apply(
        {
            "CP-006/firmware_status": Sample("Downloading"),
            "CP-006/diagnostics_status": Sample("Uploading"),
        }
    )
    assert (state.firmware_status, state.diagnostics_status) == ("Downloading", "Uploading")
    assert recorder.ranges == [(5, 5)]

    model.apply({"CP-006/firmware_status": Sample("InstallationFailed")})
    assert state.firmware_status == "InstallationFailed"
    assert state.diagnostics_status == "Uploading"  # each tag its own value
    model.apply({"CP-006/diagnostics_status": Sample(None)})
    assert state.diagnostics_status is None
    assert recorder.ranges == [(5, 5), (5, 5), (5, 5)]
    other = model.state("CP-007")
    assert other is not None and other.firmware_status is None
