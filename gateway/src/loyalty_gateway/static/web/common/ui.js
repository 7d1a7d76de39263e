// The pieces both apps are made of: htm bound to Preact, a hash router, and small
// accessible components (every input has a label, every error is announced).
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { LANGUAGES, lang, onLang, setLang, t } from "./i18n.js";

export const html = htm.bind(h);

// The route is the fragment's path (`#/history`), so the gateway serves one page per app.
export function useRoute() {
  const read = () => (location.hash.startsWith("#/") ? location.hash.slice(1) : "/");
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const listener = () => setRoute(read());
    addEventListener("hashchange", listener);
    return () => removeEventListener("hashchange", listener);
  }, []);
  return route;
}

// Re-renders the caller when the language changes.
export function useLang() {
  const [value, setValue] = useState(lang());
  useEffect(() => onLang(setValue), []);
  return value;
}

export function LangSwitch() {
  const current = useLang();
  return html`<label class="lang">
    <span class="sr-only">${t("language")}</span>
    <select value=${current} onChange=${(e) => setLang(e.target.value)}>
      ${LANGUAGES.map((code) => html`<option value=${code}>${code.toUpperCase()}</option>`)}
    </select>
  </label>`;
}

export function Nav({ items, route }) {
  return html`<nav aria-label=${t("navigation")}>
    <ul>
      ${items.map(
        ([path, label]) => html`<li>
          <a href=${"#" + path} aria-current=${isCurrent(route, path) ? "page" : undefined}>${label}</a>
        </li>`,
      )}
    </ul>
  </nav>`;
}

function isCurrent(route, path) {
  return path === "/" ? route === "/" : route === path || route.startsWith(path + "/");
}

export function Section({ title, children, actions }) {
  return html`<section class="card" aria-labelledby=${slug(title)}>
    <header class="card-head"><h2 id=${slug(title)}>${title}</h2>${actions}</header>
    ${children}
  </section>`;
}

function slug(text) {
  return "h-" + String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

// A query's state: a spinner, an error, or the content.
export function Loaded({ state, children }) {
  if (state.loading && !state.data) return html`<p class="muted" role="status">${t("loading")}</p>`;
  if (state.error) return html`<p class="error" role="alert">${state.error.message}</p>`;
  return children(state.data);
}

export function Field({ label, hint, error, children }) {
  return html`<label class="field">
    <span>${label}</span>
    ${children}
    ${hint && html`<small class="muted">${hint}</small>`}
    ${error && html`<small class="error" role="alert">${error}</small>`}
  </label>`;
}

// A payload's user errors, or a thrown error's message.
export function Errors({ errors }) {
  if (!errors?.length) return null;
  return html`<ul class="errors" role="alert" data-testid="errors">
    ${errors.map((e) => html`<li><code>${e.code ?? ""}</code> ${e.message}</li>`)}
  </ul>`;
}

export function Empty({ children }) {
  return html`<p class="muted">${children}</p>`;
}

// `testid` marks each row (`data-testid`) for a browser test to find.
export function Table({ caption, columns, rows, empty, testid }) {
  if (!rows.length) return html`<${Empty}>${empty ?? t("nothing_yet")}</${Empty}>`;
  // A table wider than a phone scrolls in its box, which keyboards reach too (tabindex).
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}><table>
    <caption class="sr-only">${caption}</caption>
    <thead><tr>${columns.map(([label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
    <tbody>
      ${rows.map((row) => html`<tr data-testid=${testid}>${columns.map(([, cell]) => html`<td>${cell(row)}</td>`)}</tr>`)}
    </tbody>
  </table></div>`;
}

// Runs an action, keeping its user errors and whether it is busy, for a button or form.
export function useAction(action) {
  const [state, setState] = useState({ busy: false, errors: null, done: null });
  const run = async (...args) => {
    setState({ busy: true, errors: null, done: null });
    try {
      const payload = await action(...args);
      const errors = payload?.errors?.length ? payload.errors : null;
      setState({ busy: false, errors, done: errors ? null : payload });
      return errors ? null : payload;
    } catch (error) {
      setState({ busy: false, errors: error.errors ?? [{ message: error.message }], done: null });
      return null;
    }
  };
  return [state, run];
}

// Applies a tenant's colours to the page's custom properties.
export function applyBrand(branding) {
  const root = document.documentElement.style;
  if (branding?.primaryColor) root.setProperty("--brand", branding.primaryColor);
  if (branding?.accentColor) root.setProperty("--accent", branding.accentColor);
}
