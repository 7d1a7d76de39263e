// Joining the programme (the onboarding module, with the tenant's public enrolment key):
// the person gives an address and a name, proves the address with the code sent to it,
// chooses consents per purpose, and is a member, signed in at once where the tenant signs
// members in by code (`enrolmentComplete` answers a session then).
import { useState } from "preact/hooks";
import { mutateWithKey } from "../common/api.js";
import { lang, t } from "../common/i18n.js";
import { Errors, Field, html, useAction } from "../common/ui.js";

const START = `mutation JoinStart($input: EnrolmentStartInput!) {
  enrolmentStart(input: $input) { enrolment { id } verificationSent errors { code field message } }
}`;
const VERIFY = `mutation JoinVerify($input: EnrolmentVerifyInput!) {
  enrolmentVerify(input: $input) { enrolment { id verifiedAt } errors { code field message } }
}`;
const COMPLETE = `mutation JoinComplete($input: EnrolmentCompleteInput!) {
  enrolmentComplete(input: $input) { memberId token errors { code field message } }
}`;
const PURPOSES = ["TERMS", "MARKETING_EMAIL", "MARKETING_SMS", "PROFILING", "PARTNER_SHARING"];
const TERMS_VERSION = "portal";

export function Join({ apiKey, onToken }) {
  const [step, setStep] = useState("start");
  const [form, setForm] = useState({ email: "", firstName: "", lastName: "" });
  const [enrolmentId, setEnrolmentId] = useState(null);
  const [code, setCode] = useState("");
  const [consents, setConsents] = useState(["TERMS"]);
  const [started, start] = useAction(() =>
    mutateWithKey(apiKey, START, { input: { channel: "WEB", locale: lang(), ...form } }),
  );
  const [verified, verify] = useAction(() => mutateWithKey(apiKey, VERIFY, { input: { enrolmentId, code } }));
  const [completed, complete] = useAction(() =>
    mutateWithKey(apiKey, COMPLETE, {
      input: { enrolmentId, source: "portal", consents: consents.map((purpose) => ({ purpose, textVersion: TERMS_VERSION })) },
    }),
  );
  const bind = (name, autocomplete) => html`<input name=${name} autocomplete=${autocomplete} required value=${form[name]}
    onInput=${(e) => setForm({ ...form, [name]: e.target.value })} />`;

  if (step === "start") {
    return html`<form class="stack" onSubmit=${async (e) => {
      e.preventDefault();
      const done = await start();
      if (done) { setEnrolmentId(done.enrolment.id); setStep("verify"); }
    }}>
      <${Field} label=${t("email")}>${bind("email", "email")}</${Field}>
      <${Field} label=${t("first_name")}>${bind("firstName", "given-name")}</${Field}>
      <${Field} label=${t("last_name")}>${bind("lastName", "family-name")}</${Field}>
      <${Errors} errors=${started.errors} />
      <button class="primary" disabled=${started.busy}>${t("join_send")}</button>
    </form>`;
  }
  if (step === "verify") {
    return html`<form class="stack" onSubmit=${async (e) => {
      e.preventDefault();
      if (await verify()) setStep("consents");
    }}>
      <p role="status">${t("code_sent")}</p>
      <${Field} label=${t("code")}>
        <input name="code" inputmode="numeric" autocomplete="one-time-code" required value=${code} onInput=${(e) => setCode(e.target.value)} />
      </${Field}>
      <${Errors} errors=${verified.errors} />
      <button class="primary" disabled=${verified.busy}>${t("join_verify")}</button>
    </form>`;
  }
  const toggle = (purpose) => setConsents(consents.includes(purpose) ? consents.filter((p) => p !== purpose) : [...consents, purpose]);
  return html`<form class="stack" onSubmit=${async (e) => {
    e.preventDefault();
    const done = await complete();
    if (done?.token) onToken(done.token);
    else if (done) setStep("done");
  }}>
    ${step === "done" ? html`<p role="status">${t("join_done")}</p>` : html`
      <fieldset class="stack"><legend>${t("consents")}</legend>
        ${PURPOSES.map((purpose) => html`<label class="row">
          <input type="checkbox" checked=${consents.includes(purpose)} onChange=${() => toggle(purpose)} />
          <span>${t("purpose_" + purpose)}</span>
        </label>`)}
      </fieldset>
      <${Errors} errors=${completed.errors} />
      <button class="primary" disabled=${completed.busy}>${t("join_complete")}</button>`}
  </form>`;
}
