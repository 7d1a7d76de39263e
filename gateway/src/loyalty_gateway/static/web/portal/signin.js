// Signing in: with the tenant's OpenID Connect provider where the deployment has one; by a
// one-time code sent through the onboarding module when the page knows the tenant's public
// enrolment key (`?key=` in the portal's address, as a retailer links it); and in
// development by pasting a token (the demo prints a link that signs in at once).
import { useState } from "preact/hooks";
import { mutateWithKey } from "../common/api.js";
import { t } from "../common/i18n.js";
import { useBranding } from "../common/branding.js";
import { startSignIn } from "../common/oidc.js";
import { Join } from "./join.js";
import { Errors, Field, LangSwitch, html, useAction } from "../common/ui.js";

const START = `mutation SignInStart($input: SignInStartInput!) {
  signInStart(input: $input) { attemptId errors { code field message } }
}`;
const VERIFY = `mutation SignInVerify($input: SignInVerifyInput!) {
  signInVerify(input: $input) { token errors { code field message } }
}`;

export function SignIn({ config, onToken }) {
  const key = new URLSearchParams(location.search).get("key");
  const tenant = useBranding();
  return html`
    <header class="top">
      ${tenant?.branding.logoUrl && html`<img src=${tenant.branding.logoUrl} alt="" />`}
      <h1>${tenant?.name ?? t("portal")}</h1><${LangSwitch} />
    </header>
    <main id="main">
      <section class="card stack" aria-labelledby="signin">
        <h2 id="signin">${t("sign_in")}</h2>
        ${config.oidc && html`<button class="primary" onClick=${() => startSignIn(config.oidc)}>${t("sign_in_provider")}</button>`}
        ${key && html`<${CodeSignIn} apiKey=${key} onToken=${onToken} />`}
        ${config.development && html`<${TokenSignIn} onToken=${onToken} />`}
        ${!config.oidc && !key && !config.development && html`<p>${t("sign_in_unavailable")}</p>`}
      </section>
      ${key && html`<section class="card stack" aria-labelledby="join">
        <h2 id="join">${t("join_title")}</h2>
        <p>${t("join_text")}</p>
        <${Join} apiKey=${key} onToken=${onToken} />
      </section>`}
    </main>`;
}

function CodeSignIn({ apiKey, onToken }) {
  const [address, setAddress] = useState("");
  const [code, setCode] = useState("");
  const [attempt, setAttempt] = useState(null);
  const [startState, start] = useAction(() => {
    const input = address.includes("@") ? { email: address } : { phone: address };
    return mutateWithKey(apiKey, START, { input });
  });
  const [verifyState, verify] = useAction(() =>
    mutateWithKey(apiKey, VERIFY, { input: { attemptId: attempt, code } }),
  );
  if (attempt === null) {
    return html`<form class="stack" onSubmit=${async (e) => {
      e.preventDefault();
      const done = await start();
      if (done) setAttempt(done.attemptId);
    }}>
      <${Field} label=${t("email_or_phone")}>
        <input name="address" autocomplete="email" required value=${address} onInput=${(e) => setAddress(e.target.value)} />
      </${Field}>
      <${Errors} errors=${startState.errors} />
      <button class="primary" disabled=${startState.busy}>${t("send_code")}</button>
    </form>`;
  }
  return html`<form class="stack" onSubmit=${async (e) => {
    e.preventDefault();
    const done = await verify();
    if (done) onToken(done.token);
  }}>
    <p role="status">${t("code_sent")}</p>
    <${Field} label=${t("code")}>
      <input name="code" inputmode="numeric" autocomplete="one-time-code" required value=${code} onInput=${(e) => setCode(e.target.value)} />
    </${Field}>
    <${Errors} errors=${verifyState.errors} />
    <button class="primary" disabled=${verifyState.busy}>${t("sign_in")}</button>
  </form>`;
}

function TokenSignIn({ onToken }) {
  const [value, setValue] = useState("");
  return html`<form class="stack" onSubmit=${(e) => { e.preventDefault(); onToken(value.trim()); }}>
    <${Field} label=${t("dev_token")} hint=${t("dev_token_hint")}>
      <textarea name="token" required value=${value} onInput=${(e) => setValue(e.target.value)}></textarea>
    </${Field}>
    <button class="secondary">${t("sign_in_token")}</button>
  </form>`;
}
