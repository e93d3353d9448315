// The map: the style from GET /tiles/style.json (tile requests get the Authorization header
// through transformRequest), the console's own overlays on top, and the view fitted to the network.
import { authHeaders, request, getJson } from "./api.js";
import { sourceOf } from "./layers.js";

const TILES = `${location.origin}/tiles/`;
const EMPTY = { type: "FeatureCollection", features: [] };
const NOTHING = ["literal", []];
const HIGHLIGHT = "#ff00ff";

function geojsonSource(map, id) {
  map.addSource(id, { type: "geojson", data: EMPTY });
}

// Highlights drawn over the style's own layers: the trace's transformers and customers (filters on
// the style's data), the selected feature, the drawn geometry, screening's nearest-point lines and
// live field work.
function addOverlays(map) {
  for (const name of ["transformers", "customers"]) {
    const source = sourceOf(map, name);
    if (source) {
      map.addLayer({ id: `gw-trace-${name}`, type: "circle", ...source, filter: ["in", ["to-number", ["get", "id"]], NOTHING],
        paint: { "circle-radius": name === "transformers" ? 9 : 6, "circle-color": HIGHLIGHT, "circle-opacity": 0.8 } });
    }
  }
  for (const id of ["gw-selected", "gw-draw", "gw-nearest", "gw-live"]) geojsonSource(map, id);
  map.addLayer({ id: "gw-selected-line", type: "line", source: "gw-selected", paint: { "line-color": "#00e5ff", "line-width": 6, "line-opacity": 0.6 } });
  map.addLayer({ id: "gw-selected-point", type: "circle", source: "gw-selected", filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 10, "circle-color": "#00e5ff", "circle-opacity": 0.5 } });
  map.addLayer({ id: "gw-draw-fill", type: "fill", source: "gw-draw", filter: ["==", ["geometry-type"], "Polygon"],
    paint: { "fill-color": "#00897b", "fill-opacity": 0.3 } });
  map.addLayer({ id: "gw-draw-line", type: "line", source: "gw-draw", paint: { "line-color": "#00897b", "line-width": 2 } });
  map.addLayer({ id: "gw-draw-point", type: "circle", source: "gw-draw", filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 5, "circle-color": "#00897b" } });
  map.addLayer({ id: "gw-nearest", type: "line", source: "gw-nearest",
    paint: { "line-color": ["case", ["==", ["get", "outcome"], "conflict"], "#b00020", "#a06000"], "line-width": 3, "line-dasharray": [1, 1] } });
  map.addLayer({ id: "gw-live", type: "circle", source: "gw-live",
    paint: { "circle-radius": 7, "circle-stroke-width": 2, "circle-stroke-color": "#fff",
      "circle-color": ["match", ["get", "kind"], "finding", "#d50000", "task", "#2962ff", "crew", "#00c853", "#757575"] } });
}

export function setData(map, source, data) {
  map.getSource(source).setData(data || EMPTY);
}

// After an edit through the console (a switch toggled), the map shows the network as it now is:
// its tiles are fetched again (a tile that did not change answers 304).
export function refreshNetwork(map) {
  for (const [id, source] of Object.entries(map.getStyle().sources)) {
    if (source.type === "vector") map.refreshTiles(id);
  }
}

export function highlight(map, name, ids) {
  if (map.getLayer(`gw-trace-${name}`)) map.setFilter(`gw-trace-${name}`, ["in", ["to-number", ["get", "id"]], ["literal", ids]]);
}

// The network's extent: its substations (few) and a page of its lines.
const EXTENT_SAMPLES = ["/network/substations?limit=1000", "/network/lines?limit=200"];

async function fitToNetwork(map) {
  const pages = await Promise.all(EXTENT_SAMPLES.map((path) => getJson(path)));
  const points = pages.flatMap((page) => page.features)
    .flatMap((f) => (f.geometry.type === "Point" ? [f.geometry.coordinates] : f.geometry.coordinates));
  if (!points.length) return;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 40, duration: 0, maxZoom: 16 });
}

export async function createMap(container) {
  // Fetched here rather than by MapLibre so that a failure (an expired token) reaches the page.
  const { data: style } = await request("/tiles/style.json");
  const map = new maplibregl.Map({
    container, style, center: [117.28, 31.86], zoom: 11, attributionControl: false,
    transformRequest: (url) => (url.startsWith(TILES) ? { url, headers: authHeaders() } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  await new Promise((resolve) => map.once("load", resolve));
  addOverlays(map);
  await fitToNetwork(map);
  return map;
}
