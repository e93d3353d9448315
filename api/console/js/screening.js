// Draw a point, a route or a polygon, pick an activity and screen it: the verdict, each finding's
// required and measured distance (and which one governed, for vertical clearances), and the
// nearest-point lines drawn on the map.
import { request } from "./api.js";
import { $, el, showError } from "./dom.js";
import { label, t } from "./i18n.js";
import { setData } from "./map.js";

// Each activity's parameters (gis/screening/activities.py): name and whether it is required.
const ACTIVITIES = {
  building: [["height_m", true]],
  excavation: [["depth_m", true]],
  crane: [["max_height_m", true], ["working_radius_m", false]],
  tree_planting: [["mature_height_m", false]],
  blasting: [["charge_kg", true]],
  kite_flying: [],
  vehicle_passage: [["height_m", true], ["width_m", false]],
  connection: [["requested_load_kw", false]],
};
const MIN_VERTICES = { polygon: 3, line: 2 };
let mode = null; // "point" | "line" | "polygon" | null
let vertices = [];
let geometry = null;

function drawn() {
  if (mode === "polygon" && vertices.length) {
    const closed = vertices.length >= MIN_VERTICES.polygon;
    return closed ? { type: "Polygon", coordinates: [[...vertices, vertices[0]]] } : { type: "LineString", coordinates: vertices };
  }
  if (mode === "line" && vertices.length) return { type: "LineString", coordinates: vertices };
  return geometry;
}

function redraw(map) {
  const shape = drawn();
  const points = mode === "polygon" || mode === "line" ? vertices.map((c) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: c } })) : [];
  setData(map, "gw-draw", { type: "FeatureCollection",
    features: [...(shape && vertices.length !== 1 ? [{ type: "Feature", properties: {}, geometry: shape }] : []), ...points] });
  $("screen").disabled = !geometry;
}

function start(map, wanted) {
  mode = wanted;
  vertices = [];
  geometry = null;
  window.gw.drawing = true;
  map.getCanvas().style.cursor = "crosshair";
  $("draw-finish").hidden = wanted === "point";
  setData(map, "gw-nearest", null);
  redraw(map);
}

function stop(map) {
  mode = null;
  window.gw.drawing = false;
  map.getCanvas().style.cursor = "";
  $("draw-finish").hidden = true;
}

function finishShape(map) {
  if (!MIN_VERTICES[mode] || vertices.length < MIN_VERTICES[mode]) return;
  geometry = mode === "polygon" ? { type: "Polygon", coordinates: [[...vertices, vertices[0]]] } : { type: "LineString", coordinates: vertices };
  stop(map);
  redraw(map);
}

function renderParameters() {
  const activity = $("activity").value;
  $("activity-parameters").replaceChildren(...ACTIVITIES[activity].map(([name, required]) =>
    el("label", {}, [el("span", { text: label("parameter", name) }),
      el("input", { attrs: { type: "number", step: "any", min: "0", name, ...(required ? { required: "" } : {}) } })])));
}

function parameters() {
  const values = {};
  for (const input of $("activity-parameters").querySelectorAll("input")) {
    if (input.value !== "") values[input.name] = Number(input.value);
  }
  return values;
}

function showResult(map, result) {
  $("screening-verdict").textContent = t("screening.verdict", { verdict: label("verdict", result.verdict), total: result.findings_total });
  $("screening-verdict").dataset.verdict = result.verdict;
  $("screening-verdict").dataset.id = String(result.id);
  const rows = result.findings.map((f) => el("tr", { className: f.outcome,
    attrs: { "data-layer": f.asset.layer, "data-id": f.asset.id, ...(f.rule.governing ? { "data-governing": f.rule.governing } : {}) } }, [
    el("td", { text: `${label("layer", f.asset.layer)} ${f.asset.name || f.asset.external_id}` }),
    el("td", { text: (f.rule.title || f.rule.code) + (f.rule.governing ? ` (${label("governing", f.rule.governing)})` : ""),
      attrs: { title: f.rule.source || "" } }),
    el("td", { text: f.required_m.toFixed(2), className: "required" }),
    el("td", { text: f.measured_m.toFixed(2), className: "measured" }),
    el("td", { text: label("outcome", f.outcome) })]));
  $("screening-findings").querySelector("tbody").replaceChildren(...rows);
  $("screening-findings").hidden = rows.length === 0;
  setData(map, "gw-nearest", { type: "FeatureCollection", features: result.findings.filter((f) => f.nearest_points)
    .map((f) => ({ type: "Feature", properties: { outcome: f.outcome, layer: f.asset.layer, asset_id: f.asset.id }, geometry: f.nearest_points })) });
}

async function screen(map) {
  showError(null);
  const { data } = await request("/screenings", { method: "POST",
    json: { geometry, activity: $("activity").value, parameters: parameters(), reference: "console" } });
  showResult(map, data);
  return data;
}

export function installScreening(map) {
  $("activity").replaceChildren(...Object.keys(ACTIVITIES).map((a) => el("option", { text: label("activity", a), attrs: { value: a } })));
  $("activity").onchange = renderParameters;
  renderParameters();
  $("draw-point").onclick = () => start(map, "point");
  $("draw-line").onclick = () => start(map, "line");
  $("draw-polygon").onclick = () => start(map, "polygon");
  $("draw-finish").onclick = () => finishShape(map);
  $("screen").onclick = () => screen(map).catch(showError);
  map.on("click", (event) => {
    if (!mode) return;
    const at = [event.lngLat.lng, event.lngLat.lat];
    if (mode === "point") {
      geometry = { type: "Point", coordinates: at };
      stop(map);
    } else {
      vertices.push(at);
    }
    redraw(map);
  });
  map.on("dblclick", (event) => {
    if (mode === "polygon" || mode === "line") {
      event.preventDefault();
      finishShape(map);
    }
  });
}
