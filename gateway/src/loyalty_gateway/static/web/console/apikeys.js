// API keys for the tenant's touchpoints (tills, web shops, kiosks): list, create with the
// scopes the touchpoint needs (the secret is shown once, here, and never again), revoke.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { dateTime, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";

const KEYS = `query ConsoleApiKeys { apiKeys { id name scopes createdBy createdAt revokedAt } }`;
const CREATE = `mutation ConsoleApiKeyCreate($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { apiKey { id name } secret errors { code field message } }
}`;
const REVOKE = `mutation ConsoleApiKeyRevoke($input: ApiKeyRevokeInput!) {
  apiKeyRevoke(input: $input) { apiKey { id revokedAt } errors { code field message } }
}`;
export const SCOPES = ["EVENTS_WRITE", "MEMBERS_READ", "MEMBERS_WRITE", "POINTS_REDEEM", "ENROLMENT"];

export function ApiKeys() {
  const state = useQuery(KEYS);
  const [revoked, revoke] = useAction((key) => mutate(REVOKE, { input: { id: key.id } }));
  return html`<${Section} title=${t("api_keys")}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("api_keys")} rows=${data.apiKeys} testid="api-key-row" columns=${[
        [t("name"), (k) => k.name],
        [t("scopes"), (k) => k.scopes.map((s) => html`<span class="pill">${t("scope_" + s)}</span> `)],
        [t("created"), (k) => `${dateTime(k.createdAt)} · ${k.createdBy}`],
        [t("status"), (k) => (k.revokedAt ? t("revoked_at", { date: dateTime(k.revokedAt) }) : html`<button class="secondary danger"
          aria-label=${t("revoke_named", { name: k.name })} disabled=${revoked.busy}
          onClick=${async () => confirm(t("revoke_confirm", { name: k.name })) && (await revoke(k)) && state.reload()}>${t("revoke")}</button>`)],
      ]} />`}
    </${Loaded}>
    <${Errors} errors=${revoked.errors} />
  </${Section}>
  <${CreateKey} onCreated=${state.reload} />`;
}

function CreateKey({ onCreated }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(["EVENTS_WRITE", "MEMBERS_READ"]);
  const [state, create] = useAction(() => mutate(CREATE, { input: { name, scopes } }));
  const submit = async (e) => {
    e.preventDefault();
    if (await create()) {
      setName("");
      onCreated();
    }
  };
  return html`<${Section} title=${t("api_key_new")}>
    <form class="stack" onSubmit=${submit} data-testid="api-key-form">
      <${Field} label=${t("name")} hint=${t("api_key_name_hint")}><input name="name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      <fieldset class="stack"><legend>${t("scopes")}</legend>
        ${SCOPES.map((scope) => html`<label class="row"><input type="checkbox" checked=${scopes.includes(scope)}
          onChange=${(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))} />
          <span>${t("scope_" + scope)} <small class="muted">${t("scope_hint_" + scope)}</small></span></label>`)}
      </fieldset>
      <${Errors} errors=${state.errors} />
      <div><button class="primary" disabled=${state.busy}>${t("create")}</button></div>
    </form>
    ${state.done && html`<div class="secret" role="status" data-testid="api-key-secret">
      <p><strong>${t("secret_once", { name: state.done.apiKey.name })}</strong></p>
      <p><code>${state.done.secret}</code></p>
      <button class="secondary" onClick=${() => navigator.clipboard?.writeText(state.done.secret)}>${t("copy")}</button>
    </div>`}
  </${Section}>`;
}
