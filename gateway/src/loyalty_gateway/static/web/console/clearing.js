// Clearing: the partners (the operator sees all of them with their position, adds one and
// issues its keys; a partner's key sees itself), and the settlement statements by period,
// each with what is owed and to download as CSV or HTML. A partner's key reads only its own
// statements.
import { useState } from "preact/hooks";
import { mutate, query, useQuery } from "../common/api.js";
import { date, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { More, Status, download, minor, nodes, usePageSize } from "./parts.js";
import { SCOPES } from "./apikeys.js";

const PARTNERS = `query ConsolePartners($first: Int) {
  partners(first: $first) {
    edges { node { id name roles currency status billing creditLimit position reorderAlert } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const STATEMENTS = `query ConsoleStatements($first: Int, $partnerId: ID, $period: Date) {
  settlementStatements(first: $first, partnerId: $partnerId, period: $period) {
    edges { node { id partnerId periodStartsOn periodEndsOn currency pointsIssued pointsRedeemed feesAmount netDue direction lineCount
      partner { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const PARTNER_CREATE = `mutation ConsolePartnerCreate($input: PartnerCreateInput!) {
  partnerCreate(input: $input) { partner { id } errors { code field message } }
}`;
const PARTNER_KEY = `mutation ConsolePartnerKey($input: PartnerApiKeyCreateInput!) {
  partnerApiKeyCreate(input: $input) { apiKeyId secret errors { code field message } }
}`;
const STATEMENT_FILE = `query ConsoleStatementFile($id: ID!) { settlementStatement(id: $id) { id periodStartsOn csv html } }`;

export function Clearing({ partner, tenant }) {
  return html`${!partner && html`<${Partners} currency=${tenant.defaultCurrency} />`}<${Statements} partner=${partner} />`;
}

function Partners({ currency }) {
  const [size, more] = usePageSize();
  const state = useQuery(PARTNERS, { first: size });
  const [adding, setAdding] = useState(false);
  return html`<${Section} title=${t("partners")}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("partners")} rows=${nodes(data.partners)} testid="partner-row" columns=${[
        [t("name"), (p) => p.name],
        [t("roles"), (p) => p.roles.map((r) => t("role_" + r)).join(", ")],
        [t("billing"), (p) => t("billing_" + p.billing)],
        [t("position"), (p) => html`${minor(p.position, p.currency)}${p.reorderAlert && html` <span class="pill status-paused">${t("reorder")}</span>`}`],
        [t("status"), (p) => html`<${Status} value=${p.status} />`],
      ]} />
      <${More} connection=${data.partners} onMore=${more} busy=${state.loading} />
      <div><button class="secondary" aria-expanded=${adding} onClick=${() => setAdding(!adding)}>${t("partner_new")}</button></div>
      ${adding && html`<${CreatePartner} currency=${currency} onCreated=${() => { setAdding(false); state.reload(); }} />`}
      <${PartnerKey} partners=${nodes(data.partners)} />`}
    </${Loaded}>
  </${Section}>`;
}

const ROLES = ["ISSUER", "ACCEPTOR"];

function CreatePartner({ currency, onCreated }) {
  const [form, setForm] = useState({ name: "", roles: ["ISSUER", "ACCEPTOR"], currency, billing: "POSTPAID", contact: "", email: "" });
  const [state, create] = useAction(() => mutate(PARTNER_CREATE, { input: {
    name: form.name, roles: form.roles, currency: form.currency, billing: form.billing,
    contacts: form.contact ? [{ name: form.contact, email: form.email || null }] : [],
  } }));
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  return html`<form class="stack" data-testid="partner-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) onCreated(); }}>
    <h3>${t("partner_new")}</h3>
    <div class="grid">
      <${Field} label=${t("name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("currency")}><input required maxlength="3" ...${bind("currency")} /></${Field}>
      <${Field} label=${t("billing")}>
        <select ...${bind("billing")} onChange=${(e) => setForm({ ...form, billing: e.target.value })}>
          <option value="POSTPAID">${t("billing_POSTPAID")}</option><option value="PREPAID">${t("billing_PREPAID")}</option>
        </select>
      </${Field}>
      <${Field} label=${t("contact_name")}><input ...${bind("contact")} /></${Field}>
      <${Field} label=${t("contact_email")}><input type="email" ...${bind("email")} /></${Field}>
    </div>
    <fieldset class="row"><legend>${t("roles")}</legend>
      ${ROLES.map((role) => html`<label class="row"><input type="checkbox" checked=${form.roles.includes(role)}
        onChange=${(e) => setForm({ ...form, roles: e.target.checked ? [...form.roles, role] : form.roles.filter((r) => r !== role) })} />${t("role_" + role)}</label>`)}
    </fieldset>
    <${Errors} errors=${state.errors} />
    <div><button class="primary" disabled=${state.busy}>${t("create")}</button></div>
  </form>`;
}

// A key for a partner's tills and for its own view of this console (its statements and
// offers); the secret is shown once. Revoking it is the API keys screen's.
function PartnerKey({ partners }) {
  const [partnerId, setPartnerId] = useState(partners[0]?.id ?? "");
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(["EVENTS_WRITE", "MEMBERS_READ", "POINTS_REDEEM"]);
  const [state, create] = useAction(() => mutate(PARTNER_KEY, { input: { partnerId, name, scopes } }));
  if (!partners.length) return null;
  return html`<h3>${t("partner_key_new")}</h3>
    <form class="stack" data-testid="partner-key-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) setName(""); }}>
      <div class="grid">
        <${Field} label=${t("partner")}>
          <select name="partnerId" value=${partnerId} onChange=${(e) => setPartnerId(e.target.value)}>
            ${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
          </select>
        </${Field}>
        <${Field} label=${t("name")} hint=${t("api_key_name_hint")}><input name="name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      </div>
      <fieldset class="row"><legend>${t("scopes")}</legend>
        ${SCOPES.map((scope) => html`<label class="row"><input type="checkbox" checked=${scopes.includes(scope)}
          onChange=${(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))} />${t("scope_" + scope)}</label>`)}
      </fieldset>
      <${Errors} errors=${state.errors} />
      <div><button class="primary" disabled=${state.busy}>${t("create")}</button></div>
    </form>
    ${state.done && html`<div class="secret" role="status" data-testid="partner-key-secret">
      <p><strong>${t("partner_secret_once")}</strong></p>
      <p><code>${state.done.secret}</code></p>
    </div>`}`;
}

function Statements({ partner }) {
  const [period, setPeriod] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(STATEMENTS, { first: size, partnerId: partner?.id ?? null, period: period || null });
  const [file, saveStatement] = useAction(async (statement, kind) => {
    const data = await query(STATEMENT_FILE, { id: statement.id });
    const found = data.settlementStatement;
    const type = kind === "csv" ? "text/csv" : "text/html";
    download(new Blob([found[kind]], { type }), `statement-${statement.partner.name}-${found.periodStartsOn}.${kind}`);
    return {};
  });
  return html`<${Section} title=${t("statements")}>
    <${Field} label=${t("period_on")} hint=${t("period_on_hint")}>
      <input type="date" name="period" value=${period} onInput=${(e) => setPeriod(e.target.value)} />
    </${Field}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("statements")} rows=${nodes(data.settlementStatements)} testid="statement-row" columns=${[
        [t("period"), (s) => `${date(s.periodStartsOn)} – ${date(s.periodEndsOn)}`],
        [t("partner"), (s) => s.partner.name],
        [t("points_issued"), (s) => s.pointsIssued],
        [t("points_redeemed"), (s) => s.pointsRedeemed],
        [t("fees"), (s) => minor(s.feesAmount, s.currency)],
        [t("net_due"), (s) => html`<strong>${minor(s.netDue, s.currency)}</strong> <small>${t("direction_" + s.direction)}</small>`],
        [t("download"), (s) => html`<div class="row">
          <button class="secondary" aria-label=${t("download_csv_of", { name: s.partner.name, date: date(s.periodStartsOn) })} onClick=${() => saveStatement(s, "csv")}>CSV</button>
          <button class="secondary" aria-label=${t("download_html_of", { name: s.partner.name, date: date(s.periodStartsOn) })} onClick=${() => saveStatement(s, "html")}>HTML</button>
        </div>`],
      ]} />
      <${More} connection=${data.settlementStatements} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
    <${Errors} errors=${file.errors} />
  </${Section}>`;
}
