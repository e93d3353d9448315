// UI text from data files (i18n/zh.json, i18n/en.json), as the decision documents take theirs.
const LANGUAGE_KEY = "gw.language";
const LANGUAGES = ["zh", "en"];
let texts = {};
let language = "zh";

export function currentLanguage() {
  return language;
}

export async function load(wanted) {
  const chosen = LANGUAGES.includes(wanted) ? wanted
    : (localStorage.getItem(LANGUAGE_KEY) || (navigator.language.startsWith("zh") ? "zh" : "en"));
  const response = await fetch(`/console/i18n/${chosen}.json`);
  texts = await response.json();
  language = chosen;
  localStorage.setItem(LANGUAGE_KEY, chosen);
  document.documentElement.lang = chosen;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  return chosen;
}

// t("trace.summary", {customers: 3}) -> the text with {customers} filled in; the key when missing.
export function t(key, values = {}) {
  const text = key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), texts);
  if (typeof text !== "string") return key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

// A code from the API (a state, an action, an activity) in words, or the code itself.
export function label(group, code) {
  const text = t(`${group}.${code}`);
  return text === `${group}.${code}` ? code : text;
}
