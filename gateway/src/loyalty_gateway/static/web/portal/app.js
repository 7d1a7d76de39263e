// The member portal: sign-in, then the member's programme in sections, one per enabled
// module, each a page of its own under the fragment's path.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { connect, useQuery } from "../common/api.js";
import { addStrings, t } from "../common/i18n.js";
import { finishSignIn } from "../common/oidc.js";
import { signIn, signOut, takeTokenFromLocation, token } from "../common/session.js";
import { LangSwitch, Loaded, Nav, applyBrand, html, useLang, useRoute } from "../common/ui.js";
import { STRINGS } from "./strings.js";
import { Home } from "./home.js";
import { History } from "./history.js";
import { Offers } from "./offers.js";
import { Rewards } from "./rewards.js";
import { Games } from "./games.js";
import { Wallet } from "./wallet.js";
import { Profile } from "./profile.js";
import { SignIn } from "./signin.js";

const APP = "portal";
const config = JSON.parse(document.getElementById("config").textContent);
addStrings(STRINGS);
takeTokenFromLocation(APP);
connect(config.graphql, () => token(APP));

const VIEWER = `query Viewer {
  viewer { role modules tenant { name slug defaultCurrency branding { logoUrl primaryColor accentColor } }
    member { id firstName lastName } }
}`;

// Each page, and the module it needs (null: always there).
const PAGES = [
  ["/", "nav_home", null, Home],
  ["/history", "nav_history", null, History],
  ["/offers", "nav_offers", "partner_offers", Offers],
  ["/rewards", "nav_rewards", "rewards", Rewards],
  ["/games", "nav_games", "gamification", Games],
  ["/wallet", "nav_wallet", ["giftcards", "payment"], Wallet],
  ["/profile", "nav_profile", null, Profile],
];

function available(modules) {
  return PAGES.filter(([, , needs]) => needs === null || [needs].flat().some((m) => modules.includes(m)));
}

function Portal() {
  useLang();
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(token(APP) !== null);
  useEffect(() => {
    finishSignIn(config.oidc).then((idToken) => {
      if (idToken) {
        signIn(APP, idToken);
        setSignedIn(true);
      }
    });
  }, []);
  if (!signedIn) {
    return html`<${SignIn} config=${config} onToken=${(value) => { signIn(APP, value); setSignedIn(true); }} />`;
  }
  return html`<${Shell} route=${route} onSignOut=${() => { signOut(APP); setSignedIn(false); }} />`;
}

function Shell({ route, onSignOut }) {
  const viewer = useQuery(VIEWER);
  return html`<${Loaded} state=${viewer}>${(data) => {
    const { tenant, member, modules } = data.viewer;
    if (!member) return html`<main><p role="alert">${t("not_a_member")}</p>
      <button class="primary" onClick=${onSignOut}>${t("sign_out")}</button></main>`;
    const branding = tenant.branding;
    applyBrand(branding);
    document.title = `${tenant.name} · ${t("portal")}`;
    const pages = available(modules);
    const page = pages.find(([path]) => path === route) ?? pages[0];
    const Page = page[3];
    return html`
      <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>${t("skip")}</a>
      <header class="top">
        ${branding.logoUrl && html`<img src=${branding.logoUrl} alt="" />`}
        <h1>${tenant.name}</h1>
        <${LangSwitch} />
        <button class="link" onClick=${onSignOut}>${t("sign_out")}</button>
      </header>
      <div class="shell">
        <${Nav} route=${route} items=${pages.map(([path, label]) => [path, t(label)])} />
        <main id="main" tabindex="-1">
          <${Page} member=${member} tenant=${tenant} modules=${modules} />
        </main>
      </div>`;
  }}</${Loaded}>`;
}

const root = document.getElementById("app");
root.replaceChildren(); // the page's "Loading…", which Preact would keep beside the app
render(html`<${Portal} />`, root);
