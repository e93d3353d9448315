"""Crew members of a plan: the people in the request, checked against the users table, turned into
the solver's `Crew` with the skills they hold on the plan day.

A field task's required qualification is a skill string (`skill_of`); a person holds it when
`inspections.qualifications.check_assignee` would let them be assigned a task needing it on the plan
day (the same rule the publication's assignment enforces, so a plan never gives someone a task the
assignment would then refuse)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import Conflict, InvalidInput
from core.users.models import User
from inspections.qualifications import check_assignee
from routing.plan_day import PlanDay
from routing.problem import Break, Crew, Point, Window
from routing.rules import routing_rules
from routing.schemas import CrewIn, LonLat, first_repeat


def skill_of(requirement: Mapping[str, Any]) -> str:
    """`certificate:<type>>=<kV>`: what a task's qualification requirement is to the solver."""
    return f"certificate:{requirement['certificate_type']}>={float(requirement['voltage_kv']):g}"


def crew_key(user_id: int) -> str:
    return f"user:{user_id}"


def user_of(key: str) -> int:
    return int(key.removeprefix("user:"))


@dataclass(frozen=True)
class CrewMember:
    crew: Crew
    user_id: int
    name: str


def point_of(place: LonLat) -> Point:
    return Point(lon=place.lon, lat=place.lat)


def _users(db: Session, crews: Sequence[CrewIn]) -> dict[int, User]:
    ids = [c.user_id for c in crews]
    if (i := first_repeat(ids)) is not None:
        raise InvalidInput(f"User {ids[i]} is in the crew twice.",
                           errors=[{"field": f"crews[{i}].user_id", "message": "listed twice"}])
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids))
                                         .options(selectinload(User.qualifications)))}
    for i, user_id in enumerate(ids):
        if user_id not in users:
            raise InvalidInput(f"No user with id {user_id}.",
                               errors=[{"field": f"crews[{i}].user_id", "message": "unknown user"}])
    return users


def _held(user: User, requirements: Iterable[Mapping[str, Any]], day: PlanDay) -> set[str]:
    held = set()
    for requirement in requirements:
        try:
            check_assignee(user=user, requirements=[dict(requirement)], due_until=day.origin)
        except Conflict:
            continue
        held.add(skill_of(requirement))
    return held


def crew_members(*, db: Session, crews: Sequence[CrewIn], day: PlanDay,
                 requirements: Sequence[Mapping[str, Any]]) -> list[CrewMember]:
    """The request's crew as the solver's crews, or 422 naming the member who cannot be one."""
    users = _users(db, crews)
    modes = routing_rules().modes
    members = []
    for i, spec in enumerate(crews):
        user = users[spec.user_id]
        try:
            check_assignee(user=user, requirements=[], due_until=day.origin)
        except InvalidInput as exc:
            raise InvalidInput(exc.detail, errors=[{"field": f"crews[{i}].user_id",
                                                    "message": "not an active field worker"}]) from None
        if spec.mode not in modes:
            raise InvalidInput(f"Travel mode {spec.mode!r} is not one of {sorted(modes)}.",
                               errors=[{"field": f"crews[{i}].mode", "message": f"one of {sorted(modes)}"}])
        lunch = None
        if spec.lunch is not None:
            lunch = Break(window=Window(day.at(spec.lunch.earliest_start), day.at(spec.lunch.latest_start)),
                          duration_s=60 * spec.lunch.minutes)
        start = point_of(spec.start)
        crew = Crew(key=crew_key(user.id), start=start, end=point_of(spec.end) if spec.end else start,
                    shift_start=day.at(spec.shift.start), shift_end=day.at(spec.shift.end),
                    skills=frozenset(spec.skills) | _held(user, requirements, day), mode=spec.mode,
                    max_work_s=60 * spec.max_work_minutes if spec.max_work_minutes else None, lunch=lunch)
        members.append(CrewMember(crew=crew, user_id=user.id, name=user.full_name or user.username))
    return members
