// The retailer console: sign-in, then the programme in sections, one per enabled module,
// each a page of its own under the fragment's path (`#/members/<id>`).
//
// Who may do what follows the credential. A tenant admin's token (the demo's link, a pasted
// development token, the OpenID Connect provider's ID token) sees every section of the
// modules its tenant enabled. A clearing partner's API key, pasted at sign-in and kept only
// for the browser tab, sees its own statements and offers: the API answers everything else
// of the tenant with NOT_FOUND or FORBIDDEN to it, so the console does not offer it.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { connect, useQuery } from "../common/api.js";
import { addStrings, t } from "../common/i18n.js";
import { finishSignIn } from "../common/oidc.js";
import { signIn, signOut, takeTokenFromLocation, token } from "../common/session.js";
import { LangSwitch, Loaded, Nav, applyBrand, html, useLang, useRoute } from "../common/ui.js";
import { STRINGS } from "./strings.js";
import { SignIn } from "./signin.js";
import { Overview } from "./overview.js";
import { Members } from "./members.js";
import { Campaigns } from "./campaigns.js";
import { Segments } from "./segments.js";
import { Modules } from "./modules.js";
import { ApiKeys } from "./apikeys.js";
import { GiftCards } from "./giftcards.js";
import { Payments } from "./payments.js";
import { Clearing } from "./clearing.js";
import { Offers } from "./offers.js";
import { Tiers } from "./tiers.js";
import { Rewards } from "./rewards.js";
import { Games } from "./games.js";
import { Enrolment } from "./enrolment.js";

const APP = "console";
const KEY = "loyalty.console.key";
const config = JSON.parse(document.getElementById("config").textContent);
addStrings(STRINGS);
takeTokenFromLocation(APP);
const partnerKey = () => sessionStorage.getItem(KEY);
connect(config.graphql, () => partnerKey() ?? token(APP), { scheme: () => (partnerKey() ? "ApiKey" : "Bearer") });

const VIEWER = `query ConsoleViewer {
  viewer { role subject modules tenant { name slug defaultCurrency timezone branding { logoUrl primaryColor accentColor } } }
}`;
const PARTNER = `query ConsolePartner { partners(first: 1) { edges { node { id name } } } }`;

// Each page: its path, its label, the module it needs (null: always there), its component,
// and whether a partner's key sees it.
const PAGES = [
  ["/", "nav_overview", null, Overview, false],
  ["/members", "nav_members", null, Members, false],
  ["/campaigns", "nav_campaigns", null, Campaigns, false],
  ["/segments", "nav_segments", null, Segments, false],
  ["/enrolment", "nav_enrolment", "onboarding", Enrolment, false],
  ["/giftcards", "nav_giftcards", "giftcards", GiftCards, false],
  ["/payments", "nav_payments", "payment", Payments, false],
  ["/clearing", "nav_clearing", "clearing", Clearing, true],
  ["/offers", "nav_offers", "partner_offers", Offers, true],
  ["/tiers", "nav_tiers", "tiers", Tiers, false],
  ["/rewards", "nav_rewards", "rewards", Rewards, false],
  ["/games", "nav_games", "gamification", Games, false],
  ["/modules", "nav_modules", null, Modules, false],
  ["/keys", "nav_keys", null, ApiKeys, false],
];

function available(modules, partner) {
  return PAGES.filter(([, , needs, , forPartner]) => (needs === null || modules.includes(needs)) && (!partner || forPartner));
}

function pageFor(pages, route) {
  return pages.find(([path]) => path !== "/" && (route === path || route.startsWith(path + "/"))) ?? pages[0];
}

function Console() {
  useLang();
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(partnerKey() !== null || token(APP) !== null);
  useEffect(() => {
    finishSignIn(config.oidc).then((idToken) => {
      if (idToken) {
        signIn(APP, idToken);
        setSignedIn(true);
      }
    });
    // A sign-in link opened in a tab that has the console already changes only the fragment.
    const listener = () => {
      if (!location.hash.includes("token=")) return;
      sessionStorage.removeItem(KEY);
      takeTokenFromLocation(APP);
      setSignedIn(token(APP) !== null);
    };
    addEventListener("hashchange", listener);
    return () => removeEventListener("hashchange", listener);
  }, []);
  const out = () => {
    sessionStorage.removeItem(KEY);
    signOut(APP);
    setSignedIn(false);
  };
  if (!signedIn) {
    return html`<${SignIn} config=${config}
      onToken=${(value) => { sessionStorage.removeItem(KEY); signIn(APP, value); setSignedIn(true); }}
      onKey=${(value) => { signOut(APP); sessionStorage.setItem(KEY, value); setSignedIn(true); }} />`;
  }
  return html`<${Shell} route=${route} onSignOut=${out} />`;
}

function Refused({ message, onSignOut }) {
  return html`<main id="main"><section class="card stack">
    <p role="alert" data-testid="refused">${message}</p>
    <div><button class="primary" onClick=${onSignOut}>${t("sign_out")}</button></div>
  </section></main>`;
}

function Shell({ route, onSignOut }) {
  const viewer = useQuery(VIEWER);
  const role = viewer.data?.viewer.role;
  const keyed = role === "TOUCHPOINT";
  const partner = useQuery(PARTNER, {}, { skip: !keyed || !viewer.data?.viewer.modules.includes("clearing") });
  // A credential the API no longer takes (expired, revoked): say why, and offer signing out.
  if (viewer.error) return html`<${Refused} message=${viewer.error.message} onSignOut=${onSignOut} />`;
  return html`<${Loaded} state=${viewer}>${(data) => {
    const { tenant, modules } = data.viewer;
    if (role === "MEMBER") return html`<${Refused} message=${t("not_an_admin")} onSignOut=${onSignOut} />`;
    if (role === "PLATFORM" || !tenant) return html`<${Refused} message=${t("not_a_tenant")} onSignOut=${onSignOut} />`;
    if (keyed && partner.loading) return html`<p class="muted" role="status">${t("loading")}</p>`;
    const partnerNode = partner.data?.partners.edges[0]?.node ?? null;
    if (keyed && !partnerNode) return html`<${Refused} message=${t("not_a_partner")} onSignOut=${onSignOut} />`;
    const branding = tenant.branding;
    applyBrand(branding);
    document.title = `${tenant.name} · ${t("console")}`;
    const pages = available(modules, keyed);
    const [, , , Page] = pageFor(pages, route);
    return html`
      <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>${t("skip")}</a>
      <header class="top">
        ${branding.logoUrl && html`<img src=${branding.logoUrl} alt="" />`}
        <h1>${tenant.name}<span class="sub">${partnerNode ? ` · ${partnerNode.name}` : ` · ${t("console")}`}</span></h1>
        <${LangSwitch} />
        <button class="link" onClick=${onSignOut}>${t("sign_out")}</button>
      </header>
      <div class="shell">
        <${Nav} route=${route} items=${pages.map(([path, label]) => [path, t(label)])} />
        <main id="main" tabindex="-1">
          <${Page} route=${route} tenant=${tenant} modules=${modules} partner=${partnerNode}
            reloadViewer=${viewer.reload} />
        </main>
      </div>`;
  }}</${Loaded}>`;
}

// The page's "Loading…" placeholder goes: Preact renders next to what it did not make.
const root = document.getElementById("app");
root.replaceChildren();
render(html`<${Console} />`, root);
