"""Who may do what on a case (connection request, construction permit, encroachment case).

The `cases:read_*` permissions say which personal fields of a case a role may ever see in full;
whether a person sees them on a given case is need to know, decided per case in `cases.privacy`.
"""

from core.permissions import ADMINISTRATORS_ONLY, EVERY_ROLE, Permission, Role

CASES_READ = Permission("cases:read", EVERY_ROLE)
# The applicant's phone: dispatchers arrange visits, inspectors meet the applicant on site,
# approval officers receive it with the request. Auditors see it masked.
CASES_READ_CONTACT = Permission("cases:read_contact",
                                frozenset({Role.dispatcher, Role.inspector, Role.approver}))
# Only approval officers identify the applicant by ID number (the decision and supply agreement name them).
CASES_READ_ID_NUMBER = Permission("cases:read_id_number", frozenset({Role.approver}))
CASES_REGISTER = Permission("cases:register", frozenset({Role.approver}))
CASES_ASSIGN = Permission("cases:assign", frozenset({Role.dispatcher, Role.approver}))
# Inspectors survey sites; they never decide (separation of duties).
CASES_SURVEY = Permission("cases:survey", frozenset({Role.inspector}))
CASES_DECIDE = Permission("cases:decide", frozenset({Role.approver}))
# Construction found in a zone by a patrol or a dispatcher's report becomes a case.
CASES_REPORT_ENCROACHMENT = Permission("cases:report_encroachment", frozenset({Role.dispatcher, Role.inspector}))
# The holiday calendar moves every open case's deadline.
CALENDARS_MANAGE = Permission("calendars:manage", ADMINISTRATORS_ONLY)

CASE_PERMISSIONS = (CASES_READ, CASES_READ_CONTACT, CASES_READ_ID_NUMBER, CASES_REGISTER, CASES_ASSIGN, CASES_SURVEY,
                    CASES_DECIDE, CASES_REPORT_ENCROACHMENT, CALENDARS_MANAGE)
