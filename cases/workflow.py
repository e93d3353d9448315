"""The connection-request state machine (业扩报装 / construction permits / encroachment cases).

One table says which action moves a case from which state to which, who may take it and for which
kinds of case. Nothing skips a state: an action not listed for the current state is refused with
the list of actions that are allowed there. Pure Python; `cases.service` applies it.

    submitted -> screened -> survey_assigned -> surveyed -> approved
                                                         -> approved_with_clauses
                                                         -> hazard_notice_issued -> rectification_reported
                                                              -> reinspection_assigned -> reinspected
                                                              -> approved | approved_with_clauses | refused
                                                                 | hazard_notice_issued (not yet remedied)
                                                                 | resolved (encroachment remedied)
                                                         -> refused (reported to the safety department)
                                                         -> resolved (encroachment: no hazard found)
    A pending survey or re-inspection can be assigned again to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cases.permissions import CASES_ASSIGN, CASES_DECIDE, CASES_SURVEY
from core.permissions import Permission, Role, has_permission


class CaseKind(StrEnum):
    connection = "connection"  # applying for supply (new, capacity change, temporary, ...)
    construction = "construction"  # permit for work near lines
    encroachment = "encroachment"  # construction found in a zone by a patrol (reverse flow)


class State(StrEnum):
    submitted = "submitted"
    screened = "screened"
    survey_assigned = "survey_assigned"
    surveyed = "surveyed"
    approved = "approved"
    approved_with_clauses = "approved_with_clauses"
    hazard_notice_issued = "hazard_notice_issued"
    rectification_reported = "rectification_reported"
    reinspection_assigned = "reinspection_assigned"
    reinspected = "reinspected"
    refused = "refused"
    resolved = "resolved"


TERMINAL = frozenset({State.approved, State.approved_with_clauses, State.refused, State.resolved})


class Action(StrEnum):
    screen = "screen"
    assign_survey = "assign_survey"
    record_survey = "record_survey"
    approve = "approve"
    approve_with_clauses = "approve_with_clauses"
    issue_hazard_notice = "issue_hazard_notice"
    report_rectification = "report_rectification"
    assign_reinspection = "assign_reinspection"
    record_reinspection = "record_reinspection"
    refuse = "refuse"
    resolve = "resolve"


APPLICATIONS = frozenset({CaseKind.connection, CaseKind.construction})
ALL_KINDS = frozenset(CaseKind)


@dataclass(frozen=True)
class Transition:
    action: Action
    source: frozenset[State]
    target: State
    permission: Permission | None  # None: done by the system itself (automatic screening)
    kinds: frozenset[CaseKind] = ALL_KINDS
    # A final decision: its author must not be who surveyed or re-inspected the site.
    decision: bool = False


_AFTER_INSPECTION = frozenset({State.surveyed, State.reinspected})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.screen, frozenset({State.submitted}), State.screened, None),
    # Assigning again while the visit is pending re-assigns it (the surveyor is ill, left...).
    Transition(Action.assign_survey, frozenset({State.screened, State.survey_assigned}), State.survey_assigned,
               CASES_ASSIGN),
    Transition(Action.record_survey, frozenset({State.survey_assigned}), State.surveyed, CASES_SURVEY),
    Transition(Action.approve, _AFTER_INSPECTION, State.approved, CASES_DECIDE, APPLICATIONS, True),
    Transition(Action.approve_with_clauses, _AFTER_INSPECTION, State.approved_with_clauses,
               CASES_DECIDE, APPLICATIONS, True),
    Transition(Action.issue_hazard_notice, _AFTER_INSPECTION, State.hazard_notice_issued,
               CASES_DECIDE, ALL_KINDS, True),
    Transition(Action.report_rectification, frozenset({State.hazard_notice_issued}), State.rectification_reported,
               CASES_ASSIGN),
    Transition(Action.assign_reinspection, frozenset({State.rectification_reported, State.reinspection_assigned}),
               State.reinspection_assigned,
               CASES_ASSIGN),
    Transition(Action.record_reinspection, frozenset({State.reinspection_assigned}), State.reinspected,
               CASES_SURVEY),
    Transition(Action.refuse, _AFTER_INSPECTION, State.refused, CASES_DECIDE, ALL_KINDS, True),
    # An encroachment closes when the rectification passed re-inspection, or when the survey found
    # no hazard after all (an unfounded report).
    Transition(Action.resolve, _AFTER_INSPECTION, State.resolved, CASES_DECIDE,
               frozenset({CaseKind.encroachment}), True),
)


def allowed_actions(kind: CaseKind, state: State) -> list[Action]:
    return [t.action for t in TRANSITIONS if state in t.source and kind in t.kinds]


def transition_for(kind: CaseKind, state: State, action: Action) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and state in t.source and kind in t.kinds), None)


def open_actions(kind: CaseKind, state: State) -> list[Action]:
    """The actions a person may take on a case of `kind` in `state`: every allowed action but those
    the system takes itself (screening, done at registration). What a case's page offers and what a
    refused move lists as the alternatives."""
    return [t.action for t in TRANSITIONS if state in t.source and kind in t.kinds and t.permission is not None]


def role_actions(kind: CaseKind, state: State, role: Role) -> list[Action]:
    """Of `open_actions`, those `role` holds the permission for: the buttons a console offers the
    signed-in user. Per-case rules (separation of duties, who may hand over) are still checked when
    the action is taken, so an offered action can be refused with a 403 naming the reason."""
    return [t.action for t in TRANSITIONS if state in t.source and kind in t.kinds and t.permission is not None
            and has_permission(role, t.permission)]
