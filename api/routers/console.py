"""The dispatcher's map console at /console: one page and its static files (see api/console_assets.py
for which). Open to anyone, like the sign-in form it shows: every datum on it comes from the API
with the signed-in user's token, and the files hold no data."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from api import console_assets
from api.dependencies import public

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[Depends(public)])
# A new deployment must not run yesterday's scripts: browsers revalidate (ETag) on every load.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@router.get("")
def console_page() -> FileResponse:
    return FileResponse(console_assets.page(), media_type="text/html; charset=utf-8",
                        headers={**_HEADERS, "Content-Security-Policy": console_assets.CONTENT_SECURITY_POLICY})


@router.get("/{path:path}")
def console_file(path: str) -> FileResponse:
    return FileResponse(console_assets.asset(path), headers=_HEADERS)
