// Offers: what the member may activate (clip), what it activated with the terms it holds,
// and what it used. Activating freezes the terms shown, whatever the partner changes later.
import { mutate, useQuery } from "../common/api.js";
import { date, t } from "../common/i18n.js";
import { Errors, Loaded, Section, html, useAction } from "../common/ui.js";

const OFFERS = `query Offers($id: ID!) {
  member(id: $id) { id offers(first: 50) { edges { node {
    state endsAt redeemed activatedAt
    terms { reward value perMemberLimit }
    offer { id title description imageUrl termsText activation }
  } } } }
}`;
const ACTIVATE = `mutation Activate($input: OfferMemberInput!) {
  offerActivate(input: $input) { memberOffer { state } errors { code field message } }
}`;
const HIDE = `mutation Hide($input: OfferMemberInput!) {
  offerHide(input: $input) { errors { code field message } }
}`;

export function Offers({ member }) {
  const state = useQuery(OFFERS, { id: member.id });
  return html`<${Section} title=${t("nav_offers")}>
    <${Loaded} state=${state}>${(data) => {
      const offers = data.member.offers.edges.map((edge) => edge.node);
      if (!offers.length) return html`<p class="muted">${t("no_offers")}</p>`;
      return html`<ul class="list">
        ${offers.map((item) => html`<${OfferItem} item=${item} reload=${state.reload} />`)}
      </ul>`;
    }}</${Loaded}>
  </${Section}>`;
}

function OfferItem({ item, reload }) {
  const { offer } = item;
  const input = { offerId: offer.id };
  const [activation, activate] = useAction(() => mutate(ACTIVATE, { input }));
  const [hiding, hide] = useAction(() => mutate(HIDE, { input }));
  return html`<li data-testid="offer">
    <div class="row"><strong>${offer.title}</strong><span class="pill">${t(item.state === "AVAILABLE" && offer.activation === "AUTO" ? "offer_AUTO" : "offer_" + item.state)}</span></div>
    <p>${offer.description}</p>
    <p class="muted">${t("offer_until", { date: date(item.endsAt) })}${offer.termsText && " · " + offer.termsText}</p>
    ${item.state === "AVAILABLE" && offer.activation === "CLIP" && html`<div class="row">
      <button class="primary" disabled=${activation.busy} onClick=${async () => (await activate()) && reload()}>
        ${t("activate")} <span class="sr-only">${offer.title}</span>
      </button>
      <button class="secondary" disabled=${hiding.busy} onClick=${async () => (await hide()) && reload()}>
        ${t("hide")} <span class="sr-only">${offer.title}</span>
      </button>
    </div>`}
    <${Errors} errors=${activation.errors ?? hiding.errors} />
  </li>`;
}
