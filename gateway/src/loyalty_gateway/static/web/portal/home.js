// Home: what the member holds now (live: the balance follows the `balanceChanged`
// subscription, so a purchase booked at the till shows at once), the tier and the way to
// the next one, and the member card as a QR code to show at the till.
import { useEffect, useState } from "preact/hooks";
import qrcode from "qrcode-generator";
import { subscribe, useQuery } from "../common/api.js";
import { date, num, t } from "../common/i18n.js";
import { Loaded, Section, html } from "../common/ui.js";

const HOME = `query Home($id: ID!) {
  member(id: $id) { id firstName identifiers { kind value }
    balances { asset { code name kind spendable } available pending held expiring(withinDays: 60) { amount on } } }
}`;
const TIER = `query Tier($id: ID!) {
  member(id: $id) { id tier { level { name } until } tierProgress { value nextLevel { name } missing windowEnd } }
}`;
const CARDS = `query Cards($id: ID!) { memberCards(memberId: $id) { number status qrPayload } }`;
const BALANCE_CHANGED = `subscription Live { balanceChanged { asset { code } available pending held } }`;

export function Home({ member, modules }) {
  const state = useQuery(HOME, { id: member.id });
  const tier = useQuery(TIER, { id: member.id }, { skip: !modules.includes("tiers") });
  const cards = useQuery(CARDS, { id: member.id }, { skip: !modules.includes("onboarding") });
  const [live, setLive] = useState(null);
  useEffect(() => subscribe(BALANCE_CHANGED, {}, (data) => setLive(data.balanceChanged)), []);
  return html`<${Loaded} state=${state}>${(data) => {
    // Money assets are modules' (gift cards show in the wallet); status points, in the tier.
    const points = data.member.balances.filter((b) => b.asset.kind === "POINTS" && b.asset.spendable);
    const balances = points.map((balance) => ({
      ...balance,
      ...(live?.find((b) => b.asset.code === balance.asset.code) ?? {}),
      asset: balance.asset,
    }));
    // The card the onboarding module issued, else the card number the member was enrolled
    // with (a till scans either), else the member's id.
    const card = cards.data?.memberCards.find((c) => c.status === "ACTIVE");
    const number = card?.number ?? data.member.identifiers.find((i) => i.kind === "CARD_NUMBER")?.value;
    return html`
      <h2 class="sr-only">${t("nav_home")}</h2>
      <p>${t("hello", { name: data.member.firstName ?? "" })}</p>
      <div class="grid">
        ${balances.map((balance) => html`<${BalanceCard} balance=${balance} />`)}
        ${tier.data && html`<${TierCard} tier=${tier.data.member.tier} progress=${tier.data.member.tierProgress} />`}
        <${CardQr} payload=${card?.qrPayload ?? number ?? data.member.id} number=${number} />
      </div>`;
  }}</${Loaded}>`;
}

function BalanceCard({ balance }) {
  const soon = balance.expiring ?? [];
  return html`<${Section} title=${balance.asset.name}>
    <p class="big" data-testid=${"balance-" + balance.asset.code} aria-live="polite">${num(balance.available)}</p>
    <p class="muted">${t("available")}</p>
    <ul class="list">
      ${balance.pending > 0 && html`<li>${t("pending_points", { n: num(balance.pending) })}</li>`}
      ${balance.held > 0 && html`<li>${t("held_points", { n: num(balance.held) })}</li>`}
      ${soon.map((lot) => html`<li class="error">${t("expiring_points", { n: num(lot.amount), date: date(lot.on) })}</li>`)}
    </ul>
  </${Section}>`;
}

function TierCard({ tier, progress }) {
  const toGo = progress?.nextLevel && progress.missing > 0;
  const share = toGo ? (100 * progress.value) / (progress.value + progress.missing) : 100;
  return html`<${Section} title=${t("tier")}>
    <p class="big">${tier?.level.name ?? t("no_tier")}</p>
    ${tier && html`<p class="muted">${t("tier_until", { date: date(tier.until) })}</p>`}
    ${toGo && html`
      <div class="progress" role="progressbar" aria-label=${t("tier_progress")} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(share)}>
        <span style=${`width:${share}%`}></span>
      </div>
      <p>${t("tier_missing", { n: num(progress.missing), level: progress.nextLevel.name, date: date(progress.windowEnd) })}</p>`}
  </${Section}>`;
}

function CardQr({ payload, number }) {
  const qr = qrcode(0, "M");
  qr.addData(payload);
  qr.make();
  return html`<${Section} title=${t("member_card")}>
    <div class="qr"><img src=${qr.createDataURL(4, 8)} alt=${t("member_card_qr")} /></div>
    ${number && html`<p class="muted">${number}</p>`}
  </${Section}>`;
}
