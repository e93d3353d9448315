"""Screening of a site and activity against protection zones and clearances."""

from core.registry import Domain
from gis.screening.permissions import SCREENINGS_READ, SCREENINGS_RUN

DOMAIN = Domain(
    name="screening",
    models=("gis.screening.models",),
    routers=("api.routers.screenings:router",),
    permissions=(SCREENINGS_RUN, SCREENINGS_READ),
)
