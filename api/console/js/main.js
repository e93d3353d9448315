// The console's start: UI texts, sign-in, then the map and its panels. `window.gw` exposes the map
// and the panels' entry points (the browser tests read the map through it, as a user sees it).
import { ApiError, claims, signIn, signOut, token } from "./api.js";
import { installAssetClicks, openAsset } from "./asset.js";
import { installCases, loadCases, openCase } from "./cases.js";
import { $, showError } from "./dom.js";
import { load, label, t } from "./i18n.js";
import { onEvent, resetLive, startLive } from "./live.js";
import { createMap } from "./map.js";
import { installScreening } from "./screening.js";

// Roles that may edit the network (network:write): the switch toggle is offered to them; the API decides.
const NETWORK_EDITORS = new Set(["admin", "dispatcher"]);
const gw = (window.gw = { map: null, drawing: false, can: {}, ready: false, openAsset, openCase });
let stopLive = null;

gw.selectTab = (name) => {
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  for (const tab of document.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
};

function showSignIn() {
  $("console").hidden = true;
  $("sign-in").hidden = false;
}

async function startConsole() {
  const who = claims() || {};
  $("who").textContent = `${who.name || who.sub || ""} · ${label("role", who.role)}`;
  gw.can.editNetwork = NETWORK_EDITORS.has(who.role);
  $("sign-in").hidden = true;
  $("console").hidden = false;
  gw.selectTab("asset");
  if (!gw.map) {
    gw.map = await createMap($("map"));
    installAssetClicks(gw.map, { openCase });
    installScreening(gw.map);
    installCases();
  }
  stopLive = new AbortController();
  await Promise.all([loadCases(), startLive(gw.map, stopLive.signal)]);
  onEvent((event) => {
    if (event.type.startsWith("case.")) loadCases().catch(showError);
  });
  gw.ready = true;
}

async function main() {
  await load();
  $("language").value = document.documentElement.lang;
  $("language").onchange = async () => {
    await load($("language").value);
    location.reload(); // texts made from API data are rebuilt in the new language
  };
  for (const tab of document.querySelectorAll("[data-tab]")) tab.onclick = () => gw.selectTab(tab.dataset.tab);
  $("sign-in").onsubmit = async (event) => {
    event.preventDefault();
    $("sign-in-error").textContent = "";
    try {
      await signIn($("username").value, $("password").value);
      $("password").value = "";
      await startConsole();
    } catch (error) {
      $("sign-in-error").textContent = error instanceof ApiError && error.status === 401 ? t("signin.failed") : error.message;
    }
  };
  $("sign-out").onclick = async () => {
    if (stopLive) stopLive.abort();
    await signOut();
    location.reload();
  };
  window.addEventListener("gw:signed-out", () => {
    if (stopLive) stopLive.abort();
    resetLive();
    gw.ready = false;
    showSignIn();
  });
  if (token()) await startConsole().catch((error) => { showError(error); showSignIn(); });
  else showSignIn();
}

main();
