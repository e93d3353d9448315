"""Who may do what with photo evidence (DOMAIN.md §1, §6). The role's permission is the first gate;
whether a person may attach to or see the photos of one record is the linked record's own rule
(`media.links`): an inspector sees the photos of their own tasks, not a colleague's."""

from core.permissions import ADMINISTRATORS_ONLY, EVERY_ROLE, Permission, Role

EVIDENCE_READ = Permission("evidence:read", EVERY_ROLE)
# Those who work on records in the field or at the desk attach photos; auditors only look.
EVIDENCE_UPLOAD = Permission("evidence:upload", frozenset({Role.inspector, Role.dispatcher, Role.supervisor,
                                                           Role.approver}))
# Deleting evidence is an administrative act with a reason, audited (DOMAIN.md §6).
EVIDENCE_DELETE = Permission("evidence:delete", ADMINISTRATORS_ONLY)

EVIDENCE_PERMISSIONS = (EVIDENCE_READ, EVIDENCE_UPLOAD, EVIDENCE_DELETE)
