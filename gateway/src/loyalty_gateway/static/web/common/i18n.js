// German and English: the language comes from the browser's preferences until the person
// picks one with the switch, which is remembered. Strings are looked up by key in the
// app's dictionaries; numbers and dates are formatted with Intl for the language.

export const LANGUAGES = ["en", "de"];
const STORE = "loyalty.lang";
let strings = { en: {}, de: {} };
let current = initial();
const listeners = new Set();

function initial() {
  const chosen = localStorage.getItem(STORE);
  if (LANGUAGES.includes(chosen)) return chosen;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const lang = tag.slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(lang)) return lang;
  }
  return "en";
}

export function addStrings(more) {
  strings = { en: { ...strings.en, ...more.en }, de: { ...strings.de, ...more.de } };
}

export function lang() {
  return current;
}

export function setLang(value) {
  current = value;
  localStorage.setItem(STORE, value);
  document.documentElement.lang = value;
  listeners.forEach((listener) => listener(value));
}

export function onLang(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// The string for `key` with `{name}` placeholders filled; the key itself when missing, so a
// gap shows on screen instead of an empty label.
export function t(key, params = {}) {
  const text = strings[current][key] ?? strings.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export function num(value) {
  return new Intl.NumberFormat(current).format(value);
}

export function money(amount, currency) {
  return new Intl.NumberFormat(current, { style: "currency", currency }).format(Number(amount));
}

export function date(value) {
  return value ? new Intl.DateTimeFormat(current, { dateStyle: "medium" }).format(new Date(value)) : "";
}

export function dateTime(value) {
  return value
    ? new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(new Date(value))
    : "";
}

document.documentElement.lang = current;
