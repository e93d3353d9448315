"""Network traces at /network/trace: what loses supply downstream of an element, or a customer's
feed path upstream. Thin: one call into `gis.network.trace`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.dependencies import ReadSession, require
from core.context import Actor
from gis.network import trace as trace_service
from gis.network.permissions import NETWORK_READ
from gis.network.trace_schemas import DownstreamTrace, TraceRequest, UpstreamTrace

router = APIRouter(prefix="/network", tags=["network"])
NetworkReader = Annotated[Actor, Depends(require(NETWORK_READ))]


@router.post("/trace", response_model=DownstreamTrace | UpstreamTrace)
def trace(body: TraceRequest, request: Request, db: ReadSession, _actor: NetworkReader) -> DownstreamTrace | UpstreamTrace:
    """Downstream: which transformers and customers lose supply if a line, switch or transformer is out,
    with the switches as they stand. Upstream: the feed path of a customer to its substation."""
    return trace_service.trace(db=db, cache=request.app.state.graph_cache, request=body)
