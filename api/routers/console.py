"""The dispatcher's map console at /console: one page and its static files (see api/console_assets.py
for which). Open to anyone, like the sign-in form it shows: every datum on it comes from the API
with the signed-in user's token, and the files hold no data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from api import console_assets
from api.console_assets import ConsoleFile
from api.dependencies import AppSettings, public

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[Depends(public)])
# A new deployment must not run yesterday's scripts: browsers revalidate (ETag) on every load.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
IfNoneMatch = Annotated[str | None, Header()]


def _send(file: ConsoleFile, if_none_match: str | None, headers: dict[str, str] | None = None) -> Response:
    sent = {**_HEADERS, "ETag": file.etag, **(headers or {})}
    if file.matches(if_none_match):
        return Response(status_code=304, headers=sent)
    return Response(file.body, media_type=file.media_type, headers=sent)


@router.get("")
def console_page(settings: AppSettings, if_none_match: IfNoneMatch = None) -> Response:
    return _send(console_assets.page(), if_none_match,
                 {"Content-Security-Policy": console_assets.content_security_policy(settings.s3)})


@router.get("/{path:path}")
def console_file(path: str, if_none_match: IfNoneMatch = None) -> Response:
    return _send(console_assets.asset(path), if_none_match)
