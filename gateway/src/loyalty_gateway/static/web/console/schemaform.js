// A settings form generated from a module's JSON Schema (as pydantic writes it: `$defs` and
// `$ref`, `anyOf` with null for an optional value, `enum`, `default`, `required`), so that
// a module written by anyone gets a form: strings, numbers, integers, booleans, choices,
// lists of strings (one a line), nested objects (a fieldset each). Anything else is edited
// as JSON text. The value is a plain object the API's `settings` argument takes.
import { t } from "../common/i18n.js";
import { Field, html } from "../common/ui.js";

// The schema a `$ref` points to, and an optional value's own schema (`anyOf: [X, null]`).
export function resolve(schema, root) {
  let found = schema ?? {};
  if (found.$ref?.startsWith("#/")) {
    const target = found.$ref.slice(2).split("/").reduce((node, part) => node?.[part], root);
    // The property's own words win; a definition's title names a type, not the field.
    const { $ref, ...rest } = found;
    const { title, ...definition } = resolve(target, root);
    found = { ...definition, ...rest };
  }
  if (found.items) found = { ...found, items: resolve(found.items, root) };
  const options = found.anyOf ?? found.oneOf;
  if (options) {
    const { anyOf, oneOf, ...rest } = found;
    const real = options.filter((o) => o.type !== "null").map((o) => resolve(o, root));
    const nullable = real.length < options.length;
    if (real.length === 1) return { ...real[0], ...rest, nullable };
    // A number or a string (a decimal written either way): typed as text, sent as typed.
    if (real.every((o) => SCALARS.includes(o.type))) return { ...rest, type: "string", nullable };
  }
  return found;
}

const SCALARS = ["string", "number", "integer"];

function kindOf(schema) {
  if (schema.enum) return "enum";
  const type = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
  if (type === "array" && schema.items?.enum) return "choices";
  if (type === "array" && (schema.items?.type ?? "string") === "string") return "strings";
  return type ?? "json";
}

// The form's starting value: the current settings, else each property's default.
export function initialValue(schema, current, root = schema) {
  const resolved = resolve(schema, root);
  if (kindOf(resolved) !== "object" || !resolved.properties) {
    if (current !== undefined) return current;
    if (resolved.default !== undefined) return resolved.default;
    return resolved.type === "array" ? [] : null;
  }
  const base = current ?? resolved.default ?? {};
  const value = {};
  for (const [name, property] of Object.entries(resolved.properties)) {
    value[name] = initialValue(property, base[name], root);
  }
  return value;
}

// The form for `schema`: `value` is the object being edited, `onChange` gets a new one.
// `errors` are the API's (field names like `max_balance`, or `settings.max_balance`).
export function SchemaForm({ schema, value, onChange, errors, prefix = "" }) {
  const root = schema;
  return html`<${ObjectFields} schema=${resolve(schema, root)} root=${root} value=${value ?? {}} onChange=${onChange}
    errors=${errors ?? []} path=${prefix} />`;
}

function ObjectFields({ schema, root, value, onChange, errors, path }) {
  const properties = Object.entries(schema.properties ?? {});
  if (!properties.length) return html`<p class="muted">${t("no_settings")}</p>`;
  const required = schema.required ?? [];
  return properties.map(([name, property]) => html`<${Property} key=${name} name=${name} root=${root}
    schema=${resolve(property, root)} required=${required.includes(name)} value=${value[name]}
    onChange=${(v) => onChange({ ...value, [name]: v })} errors=${errors} path=${path ? `${path}.${name}` : name} />`);
}

function humane(name) {
  const words = name.replace(/_/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function messageFor(errors, path) {
  const found = errors.filter((e) => e.field && (e.field === path || e.field.endsWith("." + path) || e.field.startsWith(path + ".")));
  return found.length ? found.map((e) => e.message).join("; ") : null;
}

function Property({ name, schema, root, required, value, onChange, errors, path }) {
  const label = (schema.title ?? humane(name)) + (required ? " *" : "");
  const hint = schema.description;
  const error = messageFor(errors, path);
  const kind = kindOf(schema);
  const nullable = schema.nullable || !required;
  const id = "setting-" + path.replace(/\W/g, "-");
  if (kind === "object" && schema.properties) {
    return html`<fieldset class="stack" data-testid=${id}>
      <legend>${label}</legend>
      ${hint && html`<small class="muted">${hint}</small>`}
      <${ObjectFields} schema=${schema} root=${root} value=${value ?? {}} onChange=${onChange} errors=${errors} path=${path} />
    </fieldset>`;
  }
  if (kind === "boolean") {
    return html`<div class="field">
      <label class="row"><input type="checkbox" name=${path} data-testid=${id} checked=${Boolean(value)}
        onChange=${(e) => onChange(e.target.checked)} /> <span>${label}</span></label>
      ${hint && html`<small class="muted">${hint}</small>`}
      ${error && html`<small class="error" role="alert">${error}</small>`}
    </div>`;
  }
  let control;
  if (kind === "enum") {
    control = html`<select name=${path} data-testid=${id} required=${required} value=${value ?? ""}
      onChange=${(e) => onChange(e.target.value === "" ? null : schema.enum.find((o) => String(o) === e.target.value))}>
      ${nullable && html`<option value="">—</option>`}
      ${schema.enum.map((option) => html`<option value=${String(option)}>${String(option)}</option>`)}
    </select>`;
  } else if (kind === "integer" || kind === "number") {
    control = html`<input type="number" name=${path} data-testid=${id} required=${required}
      step=${kind === "integer" ? "1" : "any"} min=${schema.minimum ?? schema.exclusiveMinimum} max=${schema.maximum ?? schema.exclusiveMaximum}
      value=${value ?? ""} onInput=${(e) => onChange(e.target.value === "" ? null : Number(e.target.value))} />`;
  } else if (kind === "string") {
    control = html`<input name=${path} data-testid=${id} required=${required} value=${value === null || value === undefined ? "" : String(value)}
      minlength=${schema.minLength} maxlength=${schema.maxLength} pattern=${schema.pattern}
      onInput=${(e) => onChange(e.target.value === "" && nullable ? null : e.target.value)} />`;
  } else if (kind === "strings") {
    control = html`<textarea name=${path} data-testid=${id} rows="3" value=${(value ?? []).join("\n")}
      onInput=${(e) => onChange(e.target.value.split("\n").map((s) => s.trim()).filter(Boolean))}></textarea>`;
  } else if (kind === "choices") {
    const options = schema.items.enum;
    return html`<fieldset class="row" data-testid=${id}><legend>${label}</legend>
      ${options.map((option) => html`<label class="row"><input type="checkbox" checked=${(value ?? []).includes(option)}
        onChange=${(e) => onChange(e.target.checked ? [...(value ?? []), option] : (value ?? []).filter((v) => v !== option))} />${String(option)}</label>`)}
      ${hint && html`<small class="muted">${hint}</small>`}
      ${error && html`<small class="error" role="alert">${error}</small>`}
    </fieldset>`;
  } else {
    control = html`<${JsonInput} name=${path} testid=${id} value=${value} onChange=${onChange} />`;
  }
  return html`<${Field} label=${label} hint=${kind === "strings" ? [hint, t("one_per_line")].filter(Boolean).join(" ") : hint} error=${error}>${control}</${Field}>`;
}

// A value the form cannot render field by field, edited as JSON; kept as text until it parses.
function JsonInput({ name, testid, value, onChange }) {
  return html`<textarea name=${name} data-testid=${testid} class="mono" rows="4"
    value=${typeof value === "string" ? value : JSON.stringify(value ?? null, null, 2)}
    onInput=${(e) => {
      try {
        onChange(JSON.parse(e.target.value));
      } catch {
        onChange(e.target.value);
      }
    }}></textarea>`;
}
