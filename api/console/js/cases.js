// The case queue: filter by state, department and overdue; open a case (its screening, deadline,
// documents, photos and history) and take the actions the signed-in role may take.
import { request, getJson } from "./api.js";
import { $, definitions, el, showError } from "./dom.js";
import { currentLanguage, label, t } from "./i18n.js";
import { setData } from "./map.js";

const PAGE = 50;
const STATES = ["submitted", "screened", "survey_assigned", "surveyed", "approved", "approved_with_clauses",
  "hazard_notice_issued", "rectification_reported", "reinspection_assigned", "reinspected", "refused", "resolved"];
// What each action asks for (cases/schemas.py ActionIn); every action takes a note.
const ACTION_FIELDS = {
  assign_survey: [["assignee_id", "number", true]],
  assign_reinspection: [["assignee_id", "number", true]],
  record_survey: [["findings", "text", true], ["hazard_found", "checkbox", false], ["measures", "lines", false]],
  record_reinspection: [["findings", "text", true], ["passed", "checkbox", false], ["measures", "lines", false]],
  approve_with_clauses: [["measures", "lines", true]],
  issue_hazard_notice: [["measures", "lines", true], ["rectification_days", "number", false]],
  refuse: [["measures", "lines", true]],
};
let items = [];
let cursor = null;
let opened = null; // {case, etag}

function filters() {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if ($("case-state").value) query.set("state", $("case-state").value);
  if ($("case-overdue").checked) query.set("overdue", "true");
  if ($("case-department").value) query.set("department", $("case-department").value);
  return query;
}

function caseLine(c) {
  const overdue = c.remaining && c.remaining.overdue;
  const left = c.remaining ? t("cases.daysLeft", { days: c.remaining.working_days }) : "";
  return el("li", { className: overdue ? "overdue" : "", attrs: { "data-id": c.id, "data-state": c.state },
    text: `${c.number} · ${label("state", c.state)} · ${c.department.name} · ${left}`,
    on: { click: () => openCase(c.id).catch(showError) } });
}

// The department choices grow with the departments seen in loaded pages; the API filters by them.
function renderList() {
  const departments = new Map(items.map((c) => [c.department.code, c.department.name]));
  const select = $("case-department");
  for (const [code, name] of departments) {
    if (![...select.options].some((o) => o.value === code)) select.append(el("option", { text: name, attrs: { value: code } }));
  }
  $("case-list").replaceChildren(...items.map(caseLine));
  $("case-more").hidden = !cursor;
}

export async function loadCases({ more = false } = {}) {
  const query = filters();
  if (more && cursor) query.set("cursor", cursor);
  const page = await getJson(`/cases?${query}`);
  items = more ? [...items, ...page.items] : page.items;
  cursor = page.next_cursor;
  renderList();
}

function actionForm(action) {
  const fields = [...(ACTION_FIELDS[action] || []), ["note", "text", false]];
  const form = el("form", { className: "action-form", attrs: { "data-action": action } }, [
    ...fields.map(([name, type, required]) => el("label", {}, [el("span", { text: label("input", name) }),
      type === "lines" ? el("textarea", { attrs: { name, rows: "2", ...(required ? { required: "" } : {}) } })
        : el("input", { attrs: { name, type, ...(type === "number" ? { min: "1" } : {}), ...(required ? { required: "" } : {}) } })])),
    el("button", { text: label("action", action), attrs: { type: "submit" } })]);
  form.onsubmit = (event) => {
    event.preventDefault();
    const body = { language: currentLanguage() };
    for (const [name, type] of fields) {
      const input = form.elements[name];
      if (type === "checkbox") body[name] = input.checked;
      else if (type === "lines") body[name] = input.value.split("\n").map((s) => s.trim()).filter(Boolean);
      else if (input.value !== "") body[name] = type === "number" ? Number(input.value) : input.value;
    }
    act(action, body).catch(showError);
  };
  return form;
}

async function act(action, body) {
  showError(null);
  const { data, response } = await request(`/cases/${opened.case.id}/actions/${action}`, { method: "POST",
    headers: { "If-Match": opened.etag }, json: body });
  render(data, response.headers.get("ETag"));
  await loadCases();
}

async function showScreening(c) {
  const target = $("case-screening");
  target.replaceChildren();
  const last = c.screening_ids[c.screening_ids.length - 1];
  if (!last) return;
  const screening = await getJson(`/screenings/${last}`);
  target.append(el("p", { text: t("screening.verdict", { verdict: label("verdict", screening.verdict), total: screening.findings_total }) }),
    ...screening.findings.map((f) => el("p", { className: f.outcome,
      text: `${label("layer", f.asset.layer)} ${f.asset.name || f.asset.external_id}: ${f.rule.title || f.rule.code} · `
        + t("screening.distance", { required: f.required_m.toFixed(2), measured: f.measured_m.toFixed(2) }) })));
}

function render(c, etag) {
  opened = { case: c, etag };
  $("case-detail").hidden = false;
  $("case-detail").dataset.id = String(c.id);
  $("case-detail").dataset.state = c.state;
  $("case-title").textContent = `${c.number} · ${label("kind", c.kind)}`;
  definitions($("case-summary"), [
    [t("cases.state"), label("state", c.state)], [t("cases.department"), c.department.name],
    [t("cases.applicant"), c.applicant_name], [t("cases.address"), c.site_address],
    [t("cases.verdict"), c.verdict ? label("verdict", c.verdict) : ""],
    [t("cases.deadline"), c.deadline_at ? new Date(c.deadline_at).toLocaleString() : ""],
    [t("cases.remaining"), c.remaining ? t(c.remaining.overdue ? "cases.overdueBy" : "cases.daysLeft", { days: Math.abs(c.remaining.working_days) }) : ""],
    [t("cases.owner"), c.owner.full_name || c.owner.username],
    [t("cases.assignee"), c.assignee ? (c.assignee.full_name || c.assignee.username) : ""]]);
  $("case-actions").replaceChildren(...c.your_actions.map((action) => el("button", { text: label("action", action),
    attrs: { type: "button", "data-action": action },
    on: { click: () => $("case-actions").replaceChildren(actionForm(action)) } })));
  $("case-documents").replaceChildren(...c.documents.map((d) => el("li", {}, [el("a", { text: `${d.serial_number} (${label("document", d.kind)})`,
    attrs: { href: "#", "data-id": d.id }, on: { click: (event) => { event.preventDefault(); openDocument(d).catch(showError); } } })])));
  showPhotos(c.evidence || []);
  $("case-history").replaceChildren(...c.history.map((h) => el("li", {
    text: `${new Date(h.at).toLocaleString()} · ${h.actor} · ${label("action", h.action)} → ${label("state", h.to_state)}` })));
  setData(window.gw.map, "gw-selected", { type: "FeatureCollection", features: [
    { type: "Feature", properties: {}, geometry: c.location }, ...(c.footprint ? [{ type: "Feature", properties: {}, geometry: c.footprint }] : [])] });
  showScreening(c).catch(showError);
}

// An <img> cannot send the bearer token: the photo's content route is asked (with the token) for a
// short-lived presigned URL instead of a redirect, and the image is loaded from there.
async function presignedUrl(href) {
  const { data } = await request(`${href}&redirect=false`);
  return data.url;
}

function photoItem(photo) {
  const img = el("img", { attrs: { alt: photo.file_name, width: "160", loading: "lazy" } });
  if (photo.thumb) presignedUrl(photo.thumb).then((url) => { img.src = url; }).catch(() => img.classList.add("missing"));
  if (photo.large) {
    img.classList.add("zoomable");
    img.addEventListener("click", () => presignedUrl(photo.large).then((url) => window.open(url, "_blank", "noopener"))
      .catch(showError));
  }
  const lines = [el("span", { text: photo.captured_at ? t("cases.taken", { at: new Date(photo.captured_at).toLocaleString() }) : photo.file_name })];
  if (photo.distance_m !== null && photo.distance_m !== undefined) {
    lines.push(el("span", { text: t("cases.distance", { distance: photo.distance_m.toFixed(1) })
      + (photo.position_source === "device" ? t("cases.devicePosition") : "") }));
  }
  if (photo.state === "suspicious") {
    const reasons = photo.reasons.filter((r) => r.code !== "position").map((r) => label("reason", r.code)).join("; ");
    lines.push(el("span", { className: "badge suspicious", text: `${t("cases.suspicious")}: ${reasons}`,
      attrs: { title: photo.reasons.map((r) => r.message).join("\n") } }));
  }
  return el("li", { className: photo.state, attrs: { "data-id": photo.id, "data-state": photo.state } },
    [img, el("div", { className: "caption" }, lines)]);
}

function showPhotos(photos) {
  $("case-photos").replaceChildren(...(photos.length ? photos.map(photoItem) : [el("li", { text: t("cases.noPhotos") })]));
}

// The PDF needs the Authorization header, so it is fetched and opened as a blob in a new tab.
async function openDocument(document_) {
  const { response } = await request(document_.href);
  const url = URL.createObjectURL(await response.blob());
  window.open(url, "_blank", "noopener");
  return url;
}

export async function openCase(id) {
  window.gw.selectTab("cases");
  const { data, response } = await request(`/cases/${id}`);
  render(data, response.headers.get("ETag"));
  const [lon, lat] = data.location.coordinates;
  window.gw.map.easeTo({ center: [lon, lat], duration: 0 });
}

export function installCases() {
  $("case-state").append(...STATES.map((s) => el("option", { text: label("state", s), attrs: { value: s } })));
  $("case-state").onchange = () => loadCases().catch(showError);
  $("case-overdue").onchange = () => loadCases().catch(showError);
  $("case-department").onchange = () => loadCases().catch(showError);
  $("case-more").onclick = () => loadCases({ more: true }).catch(showError);
}
