// The map's layers by their tile layer name (the MVT source-layer of GET /tiles/style.json) and
// where the API keeps each one's features, for the properties panel.
export const TILE_LAYERS = ["zones", "built_up_areas", "manual", "lines", "poles", "substations",
  "transformers", "switches", "customers", "cases"];

// Which of several features under the pointer a click opens: the smallest thing first.
export const CLICK_PRIORITY = ["switches", "transformers", "substations", "customers", "cases", "poles", "lines",
  "manual", "built_up_areas"];

// REST path of one feature of each layer (GeoJSON, with an ETag for edits).
export const FEATURE_PATHS = {
  lines: "/network/lines", transformers: "/network/transformers", switches: "/network/switches",
  substations: "/network/substations", poles: "/network/poles", customers: "/customers",
  manual: "/zones/manual", built_up_areas: "/zones/built_up_areas",
};

// Which layers a downstream trace starts from, and the element type the trace API names them by.
export const TRACE_TYPES = { lines: "line", switches: "switch", transformers: "transformer" };

// The tile layer a rendered feature belongs to: its source-layer.
export function layerOf(feature) {
  return feature.sourceLayer;
}

export function featureId(feature) {
  const id = feature.properties && feature.properties.id !== undefined ? feature.properties.id : feature.id;
  return id === undefined || id === null ? null : Number(id);
}

// {source, "source-layer"} of the style's data for a tile layer, to draw highlights over it
// (null when the reader's style lacks the layer: customers need customers:read).
export function sourceOf(map, name) {
  const layer = map.getStyle().layers.find((l) => l["source-layer"] === name);
  return layer ? { source: layer.source, "source-layer": name } : null;
}

// Style layers the user can click: every layer drawn from one of the tile layers.
export function interactiveLayers(map) {
  return map.getStyle().layers
    .filter((l) => TILE_LAYERS.includes(l["source-layer"]))
    .map((l) => l.id);
}
