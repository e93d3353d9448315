"""Inspection plans turn into tasks: each asset of a plan's class and voltage band falls due
`cycle_days` after its last task (or the plan's anchor), across month ends and leap days, once
however often the job runs; the daily job runs in the real worker and from `./gw tasks plan`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from geoalchemy2.shape import to_shape
from shapely import wkt
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.celery_app import create_celery
from core.cli import build_parser
from core.context import Actor
from core.database import unit_of_work
from core.settings import Settings
from gis.network.models import Construction
from gridwarden.domains import installed
from inspections import plan_runs, service
from inspections.models import FieldTask
from inspections.plan_schemas import PlanIn
from inspections.specs import TaskSpec
from inspections.workflow import TaskType
from tests.inspections import plan_fixtures as make

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLANS_FILE = Path(__file__).resolve().parents[2] / "inspections" / "data" / "plans.json"
ACTOR = Actor.system("tests")


def run(factory: sessionmaker[Session], day: date) -> dict[str, int]:
    with unit_of_work(factory) as db:
        return plan_runs.create_due_tasks(db=db, actor=ACTOR, run_on=day, zone=SHANGHAI).created


def tasks(factory: sessionmaker[Session]) -> list[FieldTask]:
    with factory() as db:
        return list(db.scalars(select(FieldTask).order_by(FieldTask.plan_due_on, FieldTask.id)))


@pytest.mark.parametrize(("anchor", "cycle", "day_before", "due"), [
    (date(2026, 1, 31), 28, date(2026, 2, 27), date(2026, 2, 28)),   # Jan 31 -> Feb 28 in a common year
    (date(2028, 1, 31), 29, date(2028, 2, 28), date(2028, 2, 29)),   # and Feb 29 in a leap year
    (date(2026, 1, 31), 30, date(2026, 3, 1), date(2026, 3, 2)),     # 30 days over a 28-day February
    (date(2028, 1, 31), 30, date(2028, 2, 29), date(2028, 3, 1)),    # 30 days over a 29-day February
    (date(2026, 12, 15), 30, date(2027, 1, 13), date(2027, 1, 14)),  # over the year's end
])
def test_an_asset_falls_due_cycle_days_after_the_plan_anchor_across_month_ends_and_leap_days(
        session_factory: sessionmaker[Session], anchor: date, cycle: int, day_before: date, due: date) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="mv-lines", asset_class="overhead_line", cycle_days=cycle, anchor_on=anchor)
        make.line(db, kv=10)

    assert run(session_factory, day_before) == {"mv-lines": 0}
    assert run(session_factory, due) == {"mv-lines": 1}
    assert run(session_factory, due) == {"mv-lines": 0}  # the same day again: nothing more

    assert [t.plan_due_on for t in tasks(session_factory)] == [due]


def test_the_next_task_falls_due_a_cycle_after_the_last_one_and_running_twice_creates_nothing_more(
        session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="mv-lines", asset_class="overhead_line", cycle_days=30, anchor_on=date(2026, 1, 1))
        make.line(db, kv=10)
        make.line(db, kv=20)

    days = [date(2026, 1, 31), date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 1), date(2026, 3, 2),
            date(2026, 3, 2), date(2026, 3, 31)]
    created = [run(session_factory, day)["mv-lines"] for day in days]

    assert created == [2, 0, 0, 0, 2, 0, 0]
    assert sorted({t.plan_due_on for t in tasks(session_factory)}) == [date(2026, 1, 31), date(2026, 3, 2)]


def test_a_missed_run_is_caught_up_once_and_the_cycle_counts_from_that_day(
        session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="substations", asset_class="substation", cycle_days=7, anchor_on=date(2026, 3, 1))
        make.substation(db, kv=110)

    # Due on March 8; the job did not run again until March 20.
    assert run(session_factory, date(2026, 3, 20)) == {"substations": 1}
    assert run(session_factory, date(2026, 3, 26)) == {"substations": 0}
    assert run(session_factory, date(2026, 3, 27)) == {"substations": 1}
    assert [t.plan_due_on for t in tasks(session_factory)] == [date(2026, 3, 20), date(2026, 3, 27)]


def test_a_task_is_due_from_local_midnight_for_the_plans_window_with_its_checklist_qualifications_and_place(
        session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as db:
        template = make.checklist(db, "line_patrol")
        plan = make.plan(db, code="mv-lines", asset_class="overhead_line", cycle_days=30, window_days=7,
                         anchor_on=date(2026, 1, 1), template=template,
                         qualifications=[{"certificate_type": "line_patrol"},
                                         {"certificate_type": "climbing", "voltage_kv": 35}])
        asset = make.line(db, kv=10, name="Feeder 12")
        latest_version = max(v.id for v in template.versions)
        plan_id, asset_id = plan.id, asset.id

    run(session_factory, date(2026, 1, 31))

    [task] = tasks(session_factory)
    assert (task.task_type, task.state, task.version, task.priority) == ("line_patrol", "planned", 1, 2)
    assert (task.plan_id, task.asset_type, task.asset_id, task.voltage_kv) == (plan_id, "line", asset_id, 10)
    assert task.title == "Plan mv-lines: Feeder 12"
    # Asia/Shanghai is UTC+8: local midnight of Jan 31 is 16:00 UTC on Jan 30; a week later the window ends.
    assert task.due_from == datetime(2026, 1, 30, 16, tzinfo=UTC)
    assert task.due_until == datetime(2026, 2, 6, 16, tzinfo=UTC)
    assert task.checklist_version_id == latest_version
    assert task.required_qualifications == [{"certificate_type": "line_patrol", "voltage_kv": 10},
                                            {"certificate_type": "climbing", "voltage_kv": 35}]
    assert to_shape(task.location).equals(wkt.loads(make.HEFEI_LINE.removeprefix("SRID=4326;")))
    assert task.assignee_id is None and task.answers == {} and task.notes == ""


def test_plans_cover_only_the_assets_of_their_class_and_voltage_band_that_are_not_deleted(
        session_factory: sessionmaker[Session]) -> None:
    anchor = date(2026, 1, 1)
    with unit_of_work(session_factory) as db:
        for code, asset_class, low, high in (("overhead-mv", "overhead_line", 1, 35), ("cable-mv", "cable", 1, 35),
                                             ("transformers", "transformer", 1, 35),
                                             ("substations", "substation", 0, 1000), ("switches", "switch", 1, 1000)):
            make.plan(db, code=code, asset_class=asset_class, cycle_days=7, anchor_on=anchor, min_kv=low, max_kv=high)
        expected = {
            "overhead-mv": ("line", make.line(db, kv=10).id),
            "cable-mv": ("line", make.line(db, kv=10, construction=Construction.cable).id),
            "transformers": ("transformer", make.transformer(db, hv_kv=10).id),
            "substations": ("substation", make.substation(db, kv=110).id),
            "switches": ("switch", make.switch(db, kv=20).id),
        }
        make.line(db, kv=0.4)  # below the band
        make.line(db, kv=35)  # the band's upper end is exclusive
        make.line(db, kv=10, deleted=True)
        make.transformer(db, hv_kv=110)
        make.switch(db, kv=0.4)
        make.switch(db, kv=None)  # unknown voltage: in no band

    created = run(session_factory, date(2026, 1, 8))

    assert created == dict.fromkeys(expected, 1)
    with session_factory() as db:
        planned = {code: (asset_type, asset_id) for code, asset_type, asset_id in db.execute(text(
            "SELECT p.code, t.asset_type, t.asset_id FROM field_tasks t JOIN inspection_plans p ON p.id = t.plan_id"))}
    assert planned == expected


def test_an_inactive_plan_creates_nothing(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="retired", asset_class="overhead_line", cycle_days=1, anchor_on=date(2026, 1, 1),
                  active=False)
        make.line(db, kv=10)

    assert run(session_factory, date(2026, 6, 1)) == {}
    assert tasks(session_factory) == []


def test_a_run_writes_one_audit_record_and_one_tasks_planned_event_per_plan_that_created_tasks(
        session_factory: sessionmaker[Session], owner_engine: Engine) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="lines", asset_class="overhead_line", cycle_days=7, anchor_on=date(2026, 1, 1))
        make.plan(db, code="cables", asset_class="cable", cycle_days=7, anchor_on=date(2026, 1, 1))
        for _ in range(3):
            make.line(db, kv=10)

    run(session_factory, date(2026, 1, 8))
    run(session_factory, date(2026, 1, 8))

    with owner_engine.connect() as conn:
        audits = conn.execute(text("SELECT actor_name, entity_id, after FROM audit_log "
                                   "WHERE action = 'tasks.plan_run' ORDER BY id")).all()
        events = conn.execute(text("SELECT payload FROM outbox_events WHERE event_type = 'tasks.planned'")).all()
    assert [(a.actor_name, a.entity_id, a.after["created"], a.after["total"]) for a in audits] == [
        ("system:tests", "2026-01-08", {"cables": 0, "lines": 3}, 3),
        ("system:tests", "2026-01-08", {"cables": 0, "lines": 0}, 0)]
    assert [e.payload for e in events] == [{"plan": "lines", "due_on": "2026-01-08", "created": 3,
                                            "task_type": "line_patrol"}]


def test_the_run_day_defaults_to_today_in_the_utilitys_time_zone() -> None:
    # 16:30 UTC on Jan 31 is already 00:30 on Feb 1 in Shanghai.
    assert plan_runs.local_today(datetime(2026, 1, 31, 16, 30, tzinfo=UTC), SHANGHAI) == date(2026, 2, 1)
    assert plan_runs.local_today(datetime(2026, 1, 31, 15, 59, tzinfo=UTC), SHANGHAI) == date(2026, 1, 31)


def test_the_daily_job_runs_in_the_worker_for_a_given_day_and_beat_runs_it_every_day(
        session_factory: sessionmaker[Session], settings: Settings, celery_worker: object) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="lines", asset_class="overhead_line", cycle_days=30, anchor_on=date(2026, 1, 31))
        make.line(db, kv=10)
    celery = create_celery(settings, installed())

    assert celery.send_task("inspections.create_due_tasks", args=["2026-03-02"]).get(timeout=60) == {"lines": 1}
    assert celery.send_task("inspections.create_due_tasks", args=["2026-03-02"]).get(timeout=60) == {"lines": 0}
    entry = celery.conf.beat_schedule["create-due-inspection-tasks"]
    assert entry["task"] == "inspections.create_due_tasks"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({17}, {0})


def test_gw_tasks_plan_creates_the_days_tasks_and_says_how_many(
        session_factory: sessionmaker[Session], settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="lines", asset_class="overhead_line", cycle_days=30, anchor_on=date(2026, 1, 31))
        make.line(db, kv=10)
    args = build_parser(installed()).parse_args(["tasks", "plan", "--date", "2026-03-02"])

    assert args.func(settings, args) == 0
    assert args.func(settings, args) == 0

    out = capsys.readouterr().out
    assert "plans: 1 task(s) due on 2026-03-02 created" in out
    assert "plans: 0 task(s) due on 2026-03-02 created" in out
    assert [t.plan_due_on for t in tasks(session_factory)] == [date(2026, 3, 2)]


def test_the_shipped_plans_are_valid_plans_with_their_source() -> None:
    document = json.loads(PLANS_FILE.read_text(encoding="utf-8"))
    for shipped in document["plans"]:
        PlanIn.model_validate({k: v for k, v in shipped.items() if k not in {"code", "asset_class"}}
                              | {"anchor_on": "2026-01-01", "active": True})
        assert shipped["asset_class"] in plan_runs.ASSET_SOURCES
        assert shipped["source"].startswith("default, DOMAIN.md §5, utility changes it")


def test_a_planned_task_is_the_task_create_task_makes_from_the_plans_spec(
        session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as db:
        plan = make.plan(db, code="mv-lines", asset_class="overhead_line", cycle_days=30, anchor_on=date(2026, 1, 1),
                         template=make.checklist(db, "line_patrol"),
                         qualifications=[{"certificate_type": "line_patrol"}])
        asset = make.line(db, kv=10, name="Feeder 12")
        plan_id, asset_id = plan.id, asset.id
    run(session_factory, date(2026, 1, 31))
    [planned] = tasks(session_factory)
    with unit_of_work(session_factory) as db:
        made = service.create_task(db=db, actor=ACTOR, now=planned.due_from, spec=TaskSpec(
            task_type=TaskType.line_patrol, title=planned.title, due_from=planned.due_from,
            due_until=planned.due_until, asset_type="line", asset_id=asset_id, priority=2, voltage_kv=10,
            required_qualifications=({"certificate_type": "line_patrol", "voltage_kv": 10},),
            checklist_code="line_patrol", plan_id=plan_id, plan_due_on=date(2026, 2, 1),
            origin={"kind": "plan", "code": "mv-lines"}))
        made_id = made.id

    ignored = {"id", "uuid", "plan_due_on", "created_at", "updated_at", "location"}
    with session_factory() as db:
        rows = {row.id: row for row in db.scalars(select(FieldTask))}
        columns = [c.key for c in FieldTask.__table__.columns if c.key not in ignored]
        assert {c: getattr(rows[planned.id], c) for c in columns} == {c: getattr(rows[made_id], c) for c in columns}
        assert to_shape(rows[planned.id].location).equals(to_shape(rows[made_id].location))
