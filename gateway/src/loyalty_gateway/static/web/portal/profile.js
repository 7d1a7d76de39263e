// Profile: personal data, consents per purpose with their history, the referral code to
// share, a download of everything the programme holds, and erasure (final).
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { dateTime, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";

const PROFILE = `query Profile($id: ID!) {
  member(id: $id) { id firstName lastName birthDate locale identifiers { kind value } }
}`;
const CONSENTS = `query Consents($id: ID!) {
  consents(memberId: $id) { purpose granted recordedAt }
  consentHistory(memberId: $id) { purpose granted channel recordedAt }
}`;
const UPDATE = `mutation Update($input: MemberUpdateInput!) { memberUpdate(input: $input) { errors { code field message } } }`;
const GIVE = `mutation Give($input: ConsentGiveInput!) { consentGive(input: $input) { errors { code field message } } }`;
const WITHDRAW = `mutation Withdraw($input: ConsentWithdrawInput!) { consentWithdraw(input: $input) { errors { code field message } } }`;
const REFERRAL = `mutation Referral($input: ReferralCodeCreateInput!) { referralCodeCreate(input: $input) { code errors { code field message } } }`;
const EXPORT = `mutation Export($input: MemberExportInput!) { memberExport(input: $input) { data errors { code field message } } }`;
const ERASE = `mutation Erase($input: MemberEraseInput!) { memberErase(input: $input) { erased errors { code field message } } }`;
const PURPOSES = ["MARKETING_EMAIL", "MARKETING_SMS", "PROFILING", "PARTNER_SHARING"];

export function Profile({ member, modules }) {
  const onboarding = modules.includes("onboarding");
  const state = useQuery(PROFILE, { id: member.id });
  const consents = useQuery(CONSENTS, { id: member.id }, { skip: !onboarding });
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Personal} member=${data.member} />
    ${consents.data && html`<${Consents} member=${data.member} consents=${consents.data.consents} history=${consents.data.consentHistory} reload=${consents.reload} />`}
    ${onboarding && html`<${Referral} member=${data.member} />`}
    <${Privacy} member=${data.member} />`}
  </${Loaded}>`;
}

function Personal({ member }) {
  const [form, setForm] = useState({ firstName: member.firstName ?? "", lastName: member.lastName ?? "" });
  const [state, save] = useAction(() => mutate(UPDATE, { input: { id: member.id, profile: form } }));
  const input = (name, autocomplete) => html`<input name=${name} autocomplete=${autocomplete} value=${form[name]}
    onInput=${(e) => setForm({ ...form, [name]: e.target.value })} />`;
  return html`<${Section} title=${t("personal_data")}>
    <form class="stack" onSubmit=${(e) => { e.preventDefault(); save(); }}>
      <${Field} label=${t("first_name")}>${input("firstName", "given-name")}</${Field}>
      <${Field} label=${t("last_name")}>${input("lastName", "family-name")}</${Field}>
      <p class="muted">${member.identifiers.map((i) => `${i.kind}: ${i.value}`).join(" · ")}</p>
      <${Errors} errors=${state.errors} />
      ${state.done && html`<p class="ok" role="status">${t("saved")}</p>`}
      <button class="primary" disabled=${state.busy}>${t("save")}</button>
    </form>
  </${Section}>`;
}

function Consents({ member, consents, history, reload }) {
  const [state, change] = useAction((purpose, granted) =>
    granted
      ? mutate(GIVE, { input: { memberId: member.id, purpose, textVersion: "portal", channel: "web", source: "portal" } })
      : mutate(WITHDRAW, { input: { memberId: member.id, purpose, channel: "web", source: "portal" } }),
  );
  const granted = (purpose) => consents.some((c) => c.purpose === purpose && c.granted);
  return html`<${Section} title=${t("consents")}>
    <fieldset class="stack"><legend class="sr-only">${t("consents")}</legend>
      ${PURPOSES.map((purpose) => html`<label class="row">
        <input type="checkbox" checked=${granted(purpose)} disabled=${state.busy}
          onChange=${async (e) => (await change(purpose, e.target.checked)) && reload()} />
        <span>${t("purpose_" + purpose)}</span>
      </label>`)}
    </fieldset>
    <${Errors} errors=${state.errors} />
    <h3>${t("consent_history")}</h3>
    <${Table} caption=${t("consent_history")} rows=${history} columns=${[
      [t("when"), (c) => dateTime(c.recordedAt)],
      [t("purpose"), (c) => t("purpose_" + c.purpose)],
      [t("status"), (c) => (c.granted ? t("granted") : t("withdrawn"))],
      [t("channel"), (c) => c.channel],
    ]} />
  </${Section}>`;
}

function Referral({ member }) {
  const [state, create] = useAction(() => mutate(REFERRAL, { input: { memberId: member.id } }));
  return html`<${Section} title=${t("referral")}>
    <p>${t("referral_text")}</p>
    ${state.done ? html`<p class="big"><code>${state.done.code}</code></p>`
      : html`<button class="secondary" disabled=${state.busy} onClick=${create}>${t("referral_show")}</button>`}
    <${Errors} errors=${state.errors} />
  </${Section}>`;
}

function Privacy({ member }) {
  const [exported, runExport] = useAction(async () => {
    const payload = await mutate(EXPORT, { input: { memberId: member.id } });
    if (!payload.errors.length) download(payload.data);
    return payload;
  });
  const [confirm, setConfirm] = useState("");
  const [erased, erase] = useAction(() => mutate(ERASE, { input: { memberId: member.id } }));
  const word = t("erase_word");
  return html`<${Section} title=${t("privacy")}>
    <button class="secondary" disabled=${exported.busy} onClick=${runExport}>${t("export")}</button>
    <${Errors} errors=${exported.errors} />
    <h3>${t("erase")}</h3>
    <p>${t("erase_text")}</p>
    <form class="stack" onSubmit=${(e) => { e.preventDefault(); if (confirm === word) erase(); }}>
      <${Field} label=${t("erase_confirm", { word })}>
        <input name="confirm" value=${confirm} onInput=${(e) => setConfirm(e.target.value)} />
      </${Field}>
      <${Errors} errors=${erased.errors} />
      ${erased.done && html`<p role="status">${t("erased")}</p>`}
      <button class="secondary" disabled=${confirm !== word || erased.busy}>${t("erase")}</button>
    </form>
  </${Section}>`;
}

function download(data) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: "my-loyalty-data.json" });
  link.click();
  URL.revokeObjectURL(url);
}
