"""Who may do what in meter reading (DOMAIN.md §1, §5). Readers (inspectors) record readings of the
books they are given; dispatchers build the books, hand them to readers and open the monthly rounds."""

from core.permissions import EVERY_ROLE, Permission, Role

READINGS_READ = Permission("readings:read", EVERY_ROLE)
# An inspector records readings only for the customers of their own books (or their re-read tasks).
READINGS_RECORD = Permission("readings:record", frozenset({Role.inspector}))
READING_BOOKS_MANAGE = Permission("reading_books:manage", frozenset({Role.dispatcher}))

READING_PERMISSIONS = (READINGS_READ, READINGS_RECORD, READING_BOOKS_MANAGE)
