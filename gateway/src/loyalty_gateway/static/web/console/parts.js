// Small pieces the console's pages share: amounts in a currency's minor units, status
// pills, "show more" for connections, a new idempotency key, dates for inputs, downloads.
import { useState } from "preact/hooks";
import { lang, money, t } from "../common/i18n.js";
import { html } from "../common/ui.js";

// An amount kept in minor units (cents) in its currency.
export function minor(amount, currency) {
  if (amount === null || amount === undefined) return "";
  const digits = new Intl.NumberFormat(lang(), { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  return money(amount / 10 ** digits, currency);
}

// A whole amount typed in major units ("12.50") as minor units for the API, or null.
export function toMinor(text, currency) {
  const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  const value = Number(String(text).replace(",", "."));
  return Number.isFinite(value) ? Math.round(value * 10 ** digits) : null;
}

// A status as a pill, its words from the strings (`status_ACTIVE`...), the code when none.
export function Status({ value }) {
  const label = t("status_" + value);
  return html`<span class=${"pill status-" + String(value).toLowerCase()}>${label === "status_" + value ? value : label}</span>`;
}

export function nodes(connection) {
  return connection.edges.map((edge) => edge.node);
}

// The size of a connection's page, growing by `step` with each "show more".
export function usePageSize(step = 25) {
  const [size, setSize] = useState(step);
  return [size, () => setSize(size + step)];
}

export function More({ connection, onMore, busy }) {
  if (!connection.pageInfo.hasNextPage) return null;
  return html`<div><button class="secondary" disabled=${busy} onClick=${onMore}>${t("show_more")}</button></div>`;
}

export function newKey() {
  return crypto.randomUUID();
}

// ISO date-time for an <input type="datetime-local">'s value, and back.
export function toLocalInput(value) {
  if (!value) return "";
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

// A day as the API's Date (YYYY-MM-DD), in the browser's time zone.
export function isoDate(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return d;
}

// A file made in the page (a statement, an export), saved by the browser.
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  URL.revokeObjectURL(url);
}
