// Clicking an asset: its properties (the layer's REST feature), a downstream trace with the
// transformers and customers that lose supply highlighted, and, for dispatchers, the switch toggle.
import { ApiError, request } from "./api.js";
import { $, definitions, el, showError } from "./dom.js";
import { label, t } from "./i18n.js";
import { CLICK_PRIORITY, FEATURE_PATHS, TRACE_TYPES, featureId, interactiveLayers, layerOf } from "./layers.js";
import { highlight, refreshNetwork, setData } from "./map.js";

const CLICK_TOLERANCE_PX = 4;
const HIDDEN_PROPERTIES = new Set(["id", "version"]);
let current = null; // {layer, id, etag, properties}
let opening = 0; // the latest click wins: an earlier answer arriving late is dropped

function clearTrace(map) {
  $("trace").hidden = true;
  // A hidden trace keeps no figures: nothing may read the previous asset's trace as this one's.
  delete $("trace-summary").dataset.element;
  delete $("trace-summary").dataset.customers;
  delete $("trace-summary").dataset.transformers;
  highlight(map, "transformers", []);
  highlight(map, "customers", []);
}

async function trace(map, layer, id, run = opening) {
  const { data } = await request("/network/trace", { method: "POST",
    json: { direction: "downstream", element: { type: TRACE_TYPES[layer], id } } });
  if (run !== opening) return null;
  $("trace").hidden = false;
  $("trace-summary").textContent = t(data.element_open ? "trace.open" : (data.meshed ? "trace.meshed" : "trace.summary"), {
    transformers: data.transformers.length, customers: data.customer_count, key: data.key_account_count,
    vulnerable: data.vulnerable_count });
  $("trace-summary").dataset.element = `${layer}:${id}`;
  $("trace-summary").dataset.customers = String(data.customer_count);
  $("trace-summary").dataset.transformers = String(data.transformers.length);
  $("trace-transformers").replaceChildren(...data.transformers.map((x) =>
    el("li", { text: `${x.name || x.external_id} · ${x.rated_kva} kVA · ${t("trace.customerCount", { n: x.customer_count })}`,
      attrs: { "data-id": x.id } })));
  $("trace-customers").replaceChildren(...data.customers.map((c) =>
    el("li", { text: `${c.account_number} ${c.name}`, attrs: { "data-id": c.id } })));
  highlight(map, "transformers", data.transformers.map((x) => x.id));
  highlight(map, "customers", data.customers.map((c) => c.id));
  return data;
}

function showSwitch(map, properties) {
  const button = $("switch-toggle");
  button.hidden = !(window.gw.can.editNetwork && current.layer === "switches");
  button.textContent = t(properties.is_open ? "asset.close" : "asset.open");
  button.onclick = () => toggleSwitch(map).catch(showError);
}

async function toggleSwitch(map) {
  const { layer, id, etag, properties } = current;
  const { data, response } = await request(`${FEATURE_PATHS[layer]}/${id}`, { method: "PATCH",
    headers: { "If-Match": etag }, json: { properties: { is_open: !properties.is_open } } });
  current = { layer, id, etag: response.headers.get("ETag"), properties: data.properties };
  render(map, data);
  refreshNetwork(map);
  await trace(map, layer, id);
}

function render(map, feature) {
  const { layer, properties } = current;
  $("asset-hint").hidden = true;
  $("asset-title").textContent = `${label("layer", layer)} ${properties.name || properties.external_id || current.id}`;
  $("asset-title").dataset.layer = layer;
  $("asset-title").dataset.id = String(current.id);
  definitions($("asset-properties"), Object.entries(properties)
    .filter(([name, value]) => !HIDDEN_PROPERTIES.has(name) && value !== null && typeof value !== "object")
    .map(([name, value]) => [label("property", name), typeof value === "boolean" ? t(value ? "yes" : "no") : value]));
  setData(map, "gw-selected", { type: "FeatureCollection", features: [feature] });
  showSwitch(map, properties);
}

export async function openAsset(map, layer, id) {
  showError(null);
  clearTrace(map);
  window.gw.selectTab("asset");
  const run = ++opening;
  const { data, response } = await request(`${FEATURE_PATHS[layer]}/${id}`);
  if (run !== opening) return;
  current = { layer, id, etag: response.headers.get("ETag"), properties: data.properties };
  render(map, data);
  if (TRACE_TYPES[layer]) await trace(map, layer, id, run);
}

// Everything under the pointer, smallest first, each asset once (a bus often holds several
// switches at one spot: the panel lists the others to pick from).
function assetsAt(map, point) {
  const { x, y } = point;
  const box = [[x - CLICK_TOLERANCE_PX, y - CLICK_TOLERANCE_PX], [x + CLICK_TOLERANCE_PX, y + CLICK_TOLERANCE_PX]];
  const seen = new Map();
  for (const feature of map.queryRenderedFeatures(box, { layers: interactiveLayers(map) })) {
    const layer = layerOf(feature);
    const id = featureId(feature);
    if (CLICK_PRIORITY.includes(layer) && id !== null && !seen.has(`${layer}:${id}`)) {
      seen.set(`${layer}:${id}`, { layer, id, name: feature.properties.name || feature.properties.external_id || `#${id}` });
    }
  }
  return [...seen.values()].sort((a, b) => CLICK_PRIORITY.indexOf(a.layer) - CLICK_PRIORITY.indexOf(b.layer) || a.id - b.id);
}

function open(map, openCase, hit) {
  const opened = hit.layer === "cases" ? openCase(hit.id) : openAsset(map, hit.layer, hit.id);
  return opened.catch((error) => showError(error instanceof ApiError ? error : new Error(String(error))));
}

export function installAssetClicks(map, { openCase }) {
  map.on("click", (event) => {
    if (window.gw.drawing) return;
    const hits = assetsAt(map, event.point);
    if (!hits.length) return;
    $("asset-here").hidden = hits.length < 2;
    $("asset-here-list").replaceChildren(...hits.slice(1).map((hit) => el("li", {}, [el("button", {
      text: `${label("layer", hit.layer)} ${hit.name}`, attrs: { type: "button", "data-layer": hit.layer, "data-id": hit.id },
      on: { click: () => open(map, openCase, hit) } })])));
    open(map, openCase, hits[0]);
  });
}
