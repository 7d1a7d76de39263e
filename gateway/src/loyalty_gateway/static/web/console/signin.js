// Signing in to the console: with the tenant's OpenID Connect provider where the deployment
// has one; in development by pasting a token (the demo prints a link that signs in at once);
// and, for a clearing partner, by pasting the API key the operator issued it. The key is
// kept for this browser tab only and never put in the address, where logs would keep it.
// A link with `?tenant=<slug>` shows the retailer's name and colours before sign-in.
import { useState } from "preact/hooks";
import { t } from "../common/i18n.js";
import { useBranding } from "../common/branding.js";
import { startSignIn } from "../common/oidc.js";
import { Field, LangSwitch, html } from "../common/ui.js";

export function SignIn({ config, onToken, onKey }) {
  const tenant = useBranding();
  return html`
    <header class="top">
      ${tenant?.branding.logoUrl && html`<img src=${tenant.branding.logoUrl} alt="" />`}
      <h1>${tenant ? `${tenant.name} · ${t("console")}` : t("console")}</h1><${LangSwitch} />
    </header>
    <main id="main">
      <section class="card stack" aria-labelledby="signin">
        <h2 id="signin">${t("sign_in")}</h2>
        ${config.oidc && html`<div><button class="primary" onClick=${() => startSignIn(config.oidc)}>${t("sign_in_provider")}</button></div>`}
        ${config.development && html`<${Paste} name="token" label=${t("dev_token")} hint=${t("dev_token_hint")} button=${t("sign_in")} onValue=${onToken} />`}
        ${!config.oidc && !config.development && html`<p>${t("sign_in_unavailable")}</p>`}
      </section>
      <section class="card stack" aria-labelledby="partner-signin">
        <h2 id="partner-signin">${t("partner_sign_in")}</h2>
        <${Paste} name="key" label=${t("partner_key")} hint=${t("partner_key_hint")} button=${t("sign_in_key")} onValue=${onKey} />
      </section>
    </main>`;
}

function Paste({ name, label, hint, button, onValue }) {
  const [value, setValue] = useState("");
  return html`<form class="stack" onSubmit=${(e) => { e.preventDefault(); onValue(value.trim()); }}>
    <${Field} label=${label} hint=${hint}>
      <textarea name=${name} required autocomplete="off" spellcheck="false" value=${value}
        onInput=${(e) => setValue(e.target.value)}></textarea>
    </${Field}>
    <div><button class="secondary">${button}</button></div>
  </form>`;
}
