"""Customer locations, with their contact numbers shown only to who needs them."""

from core.registry import Domain
from gis.customers.permissions import CUSTOMERS_READ, CUSTOMERS_READ_CONTACT, CUSTOMERS_WRITE

DOMAIN = Domain(
    name="customers",
    models=("gis.customers.models",),
    routers=("api.routers.customers:router",),
    layers=("gis.customers.layers:CUSTOMERS",),
    permissions=(CUSTOMERS_READ, CUSTOMERS_READ_CONTACT, CUSTOMERS_WRITE),
    # Customer events carry the record's id, version and changed field names, never personal data.
    event_visibility=(("customer", CUSTOMERS_READ),),
    audit_redactions=("gis.customers.privacy:redact_audit_snapshot",),
)
