// Small DOM helpers: elements by id and text-only building (API data never becomes HTML).
export const $ = (id) => document.getElementById(id);

export function el(tag, { text, className, attrs = {}, on = {} } = {}, children = []) {
  const element = document.createElement(tag);
  if (text !== undefined && text !== null) element.textContent = String(text);
  if (className) element.className = className;
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  for (const [name, handler] of Object.entries(on)) element.addEventListener(name, handler);
  for (const child of children) element.append(child);
  return element;
}

export function definitions(target, pairs) {
  target.replaceChildren(...pairs.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value ?? "" })]));
}

export function showError(error) {
  $("status").textContent = error ? (error.message || String(error)) : "";
}
