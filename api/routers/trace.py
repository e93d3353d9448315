from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.dependencies import DbSession, require
from core.context import Actor
from gis.network import trace as trace_service
from gis.network.permissions import NETWORK_READ
from gis.network.trace_schemas import DownstreamTrace, TraceRequest, UpstreamTrace

router = APIRouter(prefix="/network", tags=["network"])


@router.post("/trace", response_model=DownstreamTrace | UpstreamTrace)
def trace(body: TraceRequest, request: Request, db: DbSession,
          _actor: Annotated[Actor, Depends(require(NETWORK_READ))]) -> DownstreamTrace | UpstreamTrace:
    """Downstream: which transformers and customers lose supply if a line, switch or transformer is out,
    with the switches as they stand. Upstream: the feed path of a customer to its substation."""
    cache = request.app.state.graph_cache
    if body.direction == "downstream":
        assert body.element is not None
        return trace_service.trace_downstream(db=db, cache=cache, element=body.element)
    assert body.customer is not None
    return trace_service.trace_upstream(db=db, cache=cache, customer=body.customer)
