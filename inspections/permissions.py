"""Who may do what with field work. Inspectors do their own tasks; dispatchers and supervisors plan
and assign; supervisors review; auditors sample and grade (DOMAIN.md §1, §5)."""

from core.permissions import ADMINISTRATORS_ONLY, EVERY_ROLE, Permission, Role

# Everyone signed in may read tasks; an inspector sees only their own (inspections.access).
TASKS_READ = Permission("tasks:read", EVERY_ROLE)
# Who sees every task, not only those assigned to them: the people who plan, review, audit field
# work, and the approval officers whose cases' site visits are tasks.
TASKS_READ_ALL = Permission("tasks:read_all", frozenset({Role.dispatcher, Role.supervisor, Role.auditor,
                                                          Role.approver}))
TASKS_PLAN = Permission("tasks:plan", frozenset({Role.dispatcher, Role.supervisor}))
TASKS_WORK = Permission("tasks:work", frozenset({Role.inspector}))
# The reviewer never edits the inspector's record, only approves or sends it back.
TASKS_REVIEW = Permission("tasks:review", frozenset({Role.supervisor}))
TASKS_AUDIT = Permission("tasks:audit", frozenset({Role.auditor}))
# Checklists and patrol cycles are the utility's own standards.
CHECKLISTS_MANAGE = Permission("checklists:manage", frozenset({Role.supervisor}))
PLANS_MANAGE = Permission("plans:manage", ADMINISTRATORS_ONLY)

INSPECTION_PERMISSIONS = (TASKS_READ, TASKS_READ_ALL, TASKS_PLAN, TASKS_WORK, TASKS_REVIEW, TASKS_AUDIT, CHECKLISTS_MANAGE,
                          PLANS_MANAGE)
