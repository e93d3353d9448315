"""Trace service: resolves elements and customers, runs the graph traces, and describes the result."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from gis.customers.models import Customer
from gis.network.models import Line, NetworkNode, Substation, Switch, Transformer
from gis.network.topology import ElementType, GraphSource, downstream_nodes, feed_path
from gis.network.trace_schemas import (
    AssetSummary,
    CustomerRef,
    CustomerSummary,
    DownstreamTrace,
    ElementRef,
    FeedStepOut,
    TraceRequest,
    TransformerSummary,
    UpstreamTrace,
)

_ELEMENT_MODELS: dict[ElementType, type[Line | Switch | Transformer]] = {
    ElementType.line: Line,
    ElementType.switch: Switch,
    ElementType.transformer: Transformer,
}


def _customer_summary(c: Customer) -> CustomerSummary:
    return CustomerSummary(id=c.id, external_id=c.external_id, account_number=c.account_number, name=c.name,
                           category=c.category, key_account=c.key_account, vulnerable=c.vulnerable,
                           guaranteed_supply=c.guaranteed_supply, transformer_id=c.transformer_id)


def _resolve_element(db: Session, ref: ElementRef) -> Line | Switch | Transformer:
    model = _ELEMENT_MODELS[ref.type]
    column, value = ref.lookup()
    row = cast(Line | Switch | Transformer | None, db.scalar(
        select(model).where(getattr(model, column) == value, model.deleted_at.is_(None))))
    if row is None:
        raise NotFound(f"No {ref.type} with {column} {value!r}.")
    return row


def trace_downstream(*, db: Session, cache: GraphSource, element: ElementRef) -> DownstreamTrace:
    row = _resolve_element(db, element)
    result = downstream_nodes(cache.get(db), element.type, row.id)
    if result is None:
        raise InvalidInput(f"{element.type} {row.external_id!r} is not connected to the network topology.")
    node_ids = list(result.nodes)
    # The cut-off nodes travel as one array parameter (`= ANY`), not as an IN list of thousands of
    # parameters that SQLAlchemy and psycopg would render and parse anew for every trace.
    nodes = bindparam("node_ids", node_ids, type_=ARRAY(BigInteger))
    # Plain rows, not ORM objects: a feeder outage can cut off thousands of customers.
    customers = [CustomerSummary.model_construct(**row._mapping) for row in db.execute(
        select(*(getattr(Customer, name) for name in CustomerSummary.model_fields))
        .where(Customer.node_id == any_(nodes), Customer.deleted_at.is_(None)).order_by(Customer.id))
    ] if node_ids else []
    transformer_rows = list(db.scalars(
        select(Transformer).where(Transformer.hv_node_id == any_(nodes), Transformer.deleted_at.is_(None))
        .order_by(Transformer.id))) if node_ids else []
    if isinstance(row, Transformer) and node_ids and row not in transformer_rows:
        transformer_rows.insert(0, row)  # the traced transformer itself is out too
    per_transformer: dict[int, int] = {}
    for c in customers:
        if c.transformer_id is not None:
            per_transformer[c.transformer_id] = per_transformer.get(c.transformer_id, 0) + 1
    return DownstreamTrace(
        element=AssetSummary(type=str(element.type), id=row.id, external_id=row.external_id, name=row.name),
        element_open=result.element_open,
        meshed=result.meshed,
        node_count=len(node_ids),
        customer_count=len(customers),
        key_account_count=sum(c.key_account for c in customers),
        vulnerable_count=sum(c.vulnerable for c in customers),
        guaranteed_supply_count=sum(c.guaranteed_supply for c in customers),
        transformers=[TransformerSummary(type="transformer", id=t.id, external_id=t.external_id, name=t.name,
                                         rated_kva=t.rated_kva, customer_count=per_transformer.get(t.id, 0))
                      for t in transformer_rows],
        customers=customers,
    )


def trace_upstream(*, db: Session, cache: GraphSource, customer: CustomerRef) -> UpstreamTrace:
    column, value = customer.lookup()
    row = db.scalar(select(Customer).where(getattr(Customer, column) == value, Customer.deleted_at.is_(None)))
    if row is None:
        raise NotFound(f"No customer with {column} {value!r}.")
    transformer = db.get(Transformer, row.transformer_id) if row.transformer_id else None
    steps, substation_node = ([], None) if row.node_id is None else feed_path(cache.get(db), row.node_id)
    names: dict[tuple[str, int], str] = {}
    for element_type, model in _ELEMENT_MODELS.items():
        ids = [s.edge_id for s in steps if s.edge_type == element_type]
        if ids:
            for id_, ext in db.execute(select(model.id, model.external_id).where(model.id.in_(ids))):
                names[(str(element_type), id_)] = ext
    substation = None
    if substation_node is not None:
        sub = db.scalar(select(Substation).join(NetworkNode, NetworkNode.substation_id == Substation.id)
                        .where(NetworkNode.id == substation_node))
        if sub is not None:
            substation = AssetSummary(type="substation", id=sub.id, external_id=sub.external_id, name=sub.name)
    return UpstreamTrace(
        customer=_customer_summary(row),
        transformer=(AssetSummary(type="transformer", id=transformer.id, external_id=transformer.external_id,
                                  name=transformer.name) if transformer else None),
        substation=substation,
        path=[FeedStepOut(type=s.edge_type, id=s.edge_id, external_id=names.get((s.edge_type, s.edge_id), ""))
              for s in steps],
    )



def trace(*, db: Session, cache: GraphSource, request: TraceRequest) -> DownstreamTrace | UpstreamTrace:
    """The trace a request asks for: downstream from an element, or upstream from a customer (the
    request's own validation guarantees the reference its direction needs)."""
    if request.direction == "downstream":
        assert request.element is not None
        return trace_downstream(db=db, cache=cache, element=request.element)
    assert request.customer is not None
    return trace_upstream(db=db, cache=cache, customer=request.customer)
