// Modules: every module installed in this deployment, whether this tenant enabled it, and
// its settings. Enabling (or saving settings) and disabling are the tenant admin's; the
// settings form is generated from the module's own JSON Schema, so a module written by
// anyone gets one. After a change the console reads the viewer again: an enabled module's
// section appears in the navigation, a disabled one's goes.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { t } from "../common/i18n.js";
import { Errors, Loaded, Section, html, useAction } from "../common/ui.js";
import { SchemaForm, initialValue } from "./schemaform.js";

const MODULES = `query ConsoleModules {
  modules { name version description requires loaded failure enabled settings settingsSchema }
}`;
const ENABLE = `mutation ConsoleModuleEnable($input: ModuleEnableInput!) {
  moduleEnable(input: $input) { module { name enabled settings } errors { code field message } }
}`;
const DISABLE = `mutation ConsoleModuleDisable($input: ModuleDisableInput!) {
  moduleDisable(input: $input) { module { name enabled } errors { code field message } }
}`;

export function Modules({ reloadViewer }) {
  const state = useQuery(MODULES);
  const changed = () => {
    state.reload();
    reloadViewer();
  };
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Section} title=${t("modules")}>
      <p class="muted">${t("modules_hint")}</p>
    </${Section}>
    ${data.modules.filter((m) => m.name !== "core").map((module) => html`<${ModuleCard} key=${module.name} module=${module} onChanged=${changed} />`)}`}
  </${Loaded}>`;
}

function ModuleCard({ module, onChanged }) {
  const [open, setOpen] = useState(false);
  const [settings, setSettings] = useState(() => initialValue(module.settingsSchema ?? {}, module.settings ?? undefined));
  const [enabled, enable] = useAction(() => mutate(ENABLE, { input: { name: module.name, settings } }));
  const [disabled, disable] = useAction(() => mutate(DISABLE, { input: { name: module.name } }));
  const hasSettings = Object.keys(module.settingsSchema?.properties ?? {}).length > 0;
  const submit = async (e) => {
    e.preventDefault();
    if (await enable()) {
      setOpen(false);
      onChanged();
    }
  };
  const state = module.enabled ? "ENABLED" : "DISABLED";
  return html`<section class="card stack" aria-labelledby=${"module-" + module.name} data-testid="module-row" data-module=${module.name}>
    <header class="card-head">
      <h2 id=${"module-" + module.name}>${module.name} ${module.version && html`<small class="muted">${module.version}</small>`}</h2>
      <span class=${"pill status-" + state.toLowerCase()}>${t("module_" + state)}</span>
    </header>
    ${module.description && html`<p>${module.description}</p>`}
    ${module.requires.length > 0 && html`<p class="muted">${t("requires", { list: module.requires.join(", ") })}</p>`}
    ${!module.loaded && html`<p class="error" role="alert">${t("module_failed", { failure: module.failure ?? "" })}</p>`}
    ${module.loaded && html`<div class="row">
      ${!module.enabled && html`<button class="primary" aria-expanded=${open} onClick=${() => setOpen(!open)}>${t("enable")}…</button>`}
      ${module.enabled && hasSettings && html`<button class="secondary" aria-expanded=${open} onClick=${() => setOpen(!open)}>${t("settings")}</button>`}
      ${module.enabled && html`<button class="secondary danger" disabled=${disabled.busy}
        onClick=${async () => confirm(t("disable_confirm", { name: module.name })) && (await disable()) && onChanged()}>${t("disable")}</button>`}
    </div>`}
    <${Errors} errors=${disabled.errors} />
    ${open && html`<form class="stack settings" onSubmit=${submit} aria-label=${t("settings_of", { name: module.name })}>
      <${SchemaForm} schema=${module.settingsSchema ?? {}} value=${settings} onChange=${setSettings} errors=${enabled.errors} />
      <${Errors} errors=${enabled.errors} />
      <div class="row">
        <button class="primary" disabled=${enabled.busy}>${module.enabled ? t("save") : t("enable")}</button>
        <button type="button" class="secondary" onClick=${() => setOpen(false)}>${t("cancel")}</button>
      </div>
    </form>`}
  </section>`;
}
