// Live field work: open tasks, findings and crews' last positions, loaded once and then kept
// current from the event feed (GET /api/v1/events). EventSource cannot send the Authorization
// header, so the feed is read with fetch as a stream; on a break it resumes with Last-Event-ID.
import { authHeaders, getJson, token } from "./api.js";
import { $, el } from "./dom.js";
import { label, t } from "./i18n.js";
import { setData } from "./map.js";

const RECONNECT_MS = 2000;
const LIST_LIMIT = 200;
const DONE_TASK_STATES = new Set(["approved", "closed"]);
const tasks = new Map();
const findings = new Map();
const crews = new Map();
let lastEventId = null;
let listeners = [];

function point(geometry) {
  return geometry && geometry.type === "Point" ? geometry : null;
}

function redraw(map) {
  const features = [];
  const add = (kind, id, geometry, properties) => {
    if (geometry) features.push({ type: "Feature", geometry, properties: { kind, id, ...properties } });
  };
  for (const [id, task] of tasks) add("task", id, point(task.location), { state: task.state });
  for (const [id, finding] of findings) add("finding", id, point(finding.location), { severity: finding.severity });
  for (const [id, crew] of crews) add("crew", id, { type: "Point", coordinates: [crew.lon, crew.lat] }, { username: crew.username || "" });
  setData(map, "gw-live", { type: "FeatureCollection", features });
  $("field-findings").replaceChildren(...[...findings.values()].map((f) => el("li", { attrs: { "data-id": f.id },
    text: `${label("severity", f.severity)} · ${f.category} · ${f.description || ""}` })));
  $("field-tasks").replaceChildren(...[...tasks.values()].map((x) => el("li", { attrs: { "data-id": x.id },
    text: `${x.title || x.task_type} · ${label("taskState", x.state)}` })));
  $("field-crews").replaceChildren(...[...crews.entries()].map(([id, c]) => el("li", { attrs: { "data-id": id },
    text: `${c.username || `#${id}`} · ${new Date(c.server_time).toLocaleTimeString()}` })));
}

// Each list needs its own permission; a role without it simply has nothing to show there.
async function optional(path) {
  try {
    return await getJson(path);
  } catch {
    return null;
  }
}

async function loadInitial(map) {
  const [taskPage, findingPage, positions] = await Promise.all([optional(`/tasks?limit=${LIST_LIMIT}`),
    optional(`/findings?limit=${LIST_LIMIT}`), optional("/positions/latest")]);
  for (const task of taskPage ? taskPage.items : []) if (!DONE_TASK_STATES.has(task.state)) tasks.set(task.id, task);
  for (const finding of findingPage ? findingPage.items : []) findings.set(finding.id, finding);
  for (const position of positions || []) crews.set(position.user_id, position);
  redraw(map);
}

function apply(map, event) {
  const type = event.type;
  if (type.startsWith("task.")) {
    const known = tasks.get(Number(event.entity_id)) || { id: Number(event.entity_id), title: "" };
    const task = { ...known, ...event.payload, location: event.location || known.location };
    if (DONE_TASK_STATES.has(task.state)) tasks.delete(task.id); else tasks.set(task.id, task);
  } else if (type === "finding.reported" || type === "finding.critical") {
    findings.set(Number(event.entity_id), { id: Number(event.entity_id), ...event.payload, location: event.location });
  } else if (type === "position.reported") {
    const known = crews.get(event.payload.user_id) || {};
    crews.set(event.payload.user_id, { ...known, ...event.payload });
  } else {
    return;
  }
  redraw(map);
}

function parse(block) {
  const event = { id: null, data: "" };
  for (const line of block.split("\n")) {
    if (line.startsWith("id:")) event.id = line.slice(3).trim();
    else if (line.startsWith("data:")) event.data += line.slice(5).trim();
  }
  return event;
}

async function readStream(map, signal) {
  const headers = { ...authHeaders(), ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) };
  const response = await fetch("/api/v1/events", { headers, signal });
  if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
  $("live-state").textContent = t("field.live");
  $("live-state").dataset.connected = "true";
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const { id, data } = parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (id) lastEventId = id;
      if (data) {
        const event = JSON.parse(data);
        apply(map, event);
        for (const listener of listeners) listener(event);
      }
    }
  }
}

// Other parts of the console react to the feed too (the case queue to case events).
export function onEvent(listener) {
  listeners.push(listener);
}

export async function startLive(map, signal) {
  await loadInitial(map);
  (async () => {
    while (token() && !signal.aborted) {
      try {
        await readStream(map, signal);
      } catch {
        if (signal.aborted) return;
      }
      $("live-state").textContent = t("field.reconnecting");
      $("live-state").dataset.connected = "false";
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  })();
}

export function resetLive() {
  tasks.clear();
  findings.clear();
  crews.clear();
  lastEventId = null;
  listeners = [];
}
