"""The network's map layers, registered in the one catalogue (`gis.layers.catalogue`)."""

from __future__ import annotations

from gis.layers.spec import LINESTRING, POINT, LayerSpec
from gis.network import schemas
from gis.network.models import Line, Pole, Substation, Switch, Transformer
from gis.network.permissions import NETWORK_READ, NETWORK_WRITE
from gis.zones import service as zone_service

NETWORK_LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(name="substations", title="Substations", entity_type="substation", model=Substation,
              props=schemas.SubstationProps, query=schemas.SubstationQuery, geometry_types=POINT,
              read_permission=NETWORK_READ, write_permission=NETWORK_WRITE),
    LayerSpec(name="transformers", title="Transformers", entity_type="transformer", model=Transformer,
              props=schemas.TransformerProps, query=schemas.TransformerQuery, geometry_types=POINT,
              read_permission=NETWORK_READ, write_permission=NETWORK_WRITE,
              read_only=("substation_id", "hv_node_id", "lv_node_id")),
    LayerSpec(name="lines", title="Overhead lines and cables", entity_type="line", model=Line,
              props=schemas.LineProps, query=schemas.LineQuery, geometry_types=LINESTRING,
              read_permission=NETWORK_READ, write_permission=NETWORK_WRITE,
              read_only=("length_m", "conductor_spread_is_default", "node_a_id", "node_b_id"),
              after_write=zone_service.refresh_after_line_write),
    LayerSpec(name="poles", title="Poles and towers", entity_type="pole", model=Pole,
              props=schemas.PoleProps, query=schemas.PoleQuery, geometry_types=POINT,
              read_permission=NETWORK_READ, write_permission=NETWORK_WRITE, read_only=("node_id",)),
    LayerSpec(name="switches", title="Switches", entity_type="switch", model=Switch,
              props=schemas.SwitchProps, query=schemas.SwitchQuery, geometry_types=POINT,
              read_permission=NETWORK_READ, write_permission=NETWORK_WRITE,
              read_only=("substation_id", "node_a_id", "node_b_id"),
              topology_fields=frozenset({"is_open"})),
)
