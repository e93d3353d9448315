// A map without vector tiles: when GET /tiles/style.json is not there (a deployment without the
// tile service), the same layers are drawn from the GeoJSON list endpoints for the visible box.
// Sources carry the tile layer names, so clicks, highlights and tests treat both maps alike.
import { getJson } from "./api.js";

const CUSTOMER_MIN_ZOOM = 15; // as the tiles: customers only where single buildings are told apart
const PAGE = 1000; // the API's largest page (GW_API_MAX_PAGE_SIZE default)
const LISTS = {
  zones: "/zones", built_up_areas: "/zones/built_up_areas", manual: "/zones/manual",
  lines: "/network/lines", poles: "/network/poles", substations: "/network/substations",
  transformers: "/network/transformers", switches: "/network/switches", customers: "/customers",
};
const CLOSED = new Set(["approved", "approved_with_clauses", "refused", "resolved"]);
const KV_COLOURS = ["step", ["coalesce", ["get", "nominal_kv"], 0], "#6a3d9a", 1, "#1f78b4", 20, "#e31a1c", 66, "#ff7f00"];

export function fallbackStyle() {
  const empty = () => ({ type: "geojson", data: { type: "FeatureCollection", features: [] } });
  const sources = Object.fromEntries([...Object.keys(LISTS), "cases"].map((name) => [name, empty()]));
  return {
    version: 8, sources, layers: [
      { id: "background", type: "background", paint: { "background-color": "#f4f1ea" } },
      { id: "built_up_areas", type: "fill", source: "built_up_areas", paint: { "fill-color": "#d9d0c1", "fill-opacity": 0.6 } },
      { id: "zones", type: "fill", source: "zones", paint: { "fill-color": "#fdbf6f", "fill-opacity": 0.25 } },
      { id: "manual", type: "fill", source: "manual", paint: { "fill-color": "#cab2d6", "fill-opacity": 0.35 } },
      { id: "lines-overhead", type: "line", source: "lines", filter: ["!=", ["get", "construction"], "cable"],
        paint: { "line-color": KV_COLOURS, "line-width": 2 } },
      { id: "lines-cable", type: "line", source: "lines", filter: ["==", ["get", "construction"], "cable"],
        paint: { "line-color": KV_COLOURS, "line-width": 2, "line-dasharray": [2, 2] } },
      { id: "poles", type: "circle", source: "poles", minzoom: 14, paint: { "circle-radius": 2, "circle-color": "#555" } },
      { id: "customers", type: "circle", source: "customers", minzoom: CUSTOMER_MIN_ZOOM,
        paint: { "circle-radius": 3, "circle-color": "#33a02c" } },
      { id: "transformers", type: "circle", source: "transformers", paint: { "circle-radius": 5, "circle-color": "#1f78b4" } },
      { id: "switches", type: "circle", source: "switches",
        paint: { "circle-radius": 5, "circle-color": ["case", ["get", "is_open"], "#ffffff", "#000000"],
          "circle-stroke-width": 2, "circle-stroke-color": "#000000" } },
      { id: "substations", type: "circle", source: "substations", paint: { "circle-radius": 8, "circle-color": "#e31a1c" } },
      { id: "cases", type: "circle", source: "cases",
        paint: { "circle-radius": 7, "circle-color": ["case", ["get", "overdue"], "#b00020", "#ff7f00"] } },
    ],
  };
}

function withIds(collection) {
  for (const feature of collection.features) feature.properties = { ...feature.properties, id: feature.id };
  return collection;
}

// Keeps the GeoJSON sources filled for the visible box (and open cases, which are few).
export function installFallback(map) {
  let generation = 0;
  async function refresh() {
    const run = ++generation;
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    await Promise.all(Object.entries(LISTS).map(async ([name, path]) => {
      const wanted = name !== "customers" || map.getZoom() >= CUSTOMER_MIN_ZOOM;
      const data = wanted ? withIds(await getJson(`${path}?bbox=${bbox}&limit=${PAGE}`))
        : { type: "FeatureCollection", features: [] };
      if (run === generation) map.getSource(name).setData(data);
    }));
    const cases = await getJson(`/cases?limit=200`);
    if (run === generation) {
      map.getSource("cases").setData({ type: "FeatureCollection", features: cases.items.filter((c) => !CLOSED.has(c.state)).map((c) => ({
        type: "Feature", id: c.id, geometry: c.location,
        properties: { id: c.id, state: c.state, overdue: Boolean(c.remaining && c.remaining.overdue) } })) });
    }
  }
  map.on("moveend", () => refresh().catch(() => null));
  map.gwRefresh = refresh;
  return refresh();
}
