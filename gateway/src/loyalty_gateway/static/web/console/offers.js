// Partner offers: the catalogue (the operator sees every offer; a partner's key its own),
// creating an offer, retiring one, and the offers' performance by day (activations,
// redemptions, points) over a period, also as CSV.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { More, Status, daysAgo, download, fromLocalInput, isoDate, nodes, toLocalInput, usePageSize } from "./parts.js";

const OFFERS = `query ConsoleOffers($first: Int, $status: OfferStatus) {
  offers(first: $first, status: $status) {
    edges { node { id partnerId externalId version status title startsAt endsAt activation segment budget dailyCap used conditionFailures
      terms { reward value effect { kind } perMemberLimit } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CREATE = `mutation ConsoleOfferCreate($input: OfferCreateInput!) {
  offerCreate(input: $input) { offer { id } errors { code field message } }
}`;
const RETIRE = `mutation ConsoleOfferRetire($input: OfferRetireInput!) {
  offerRetire(input: $input) { offer { id status } errors { code field message } }
}`;
const PERFORMANCE = `query ConsoleOfferPerformance($since: Date!, $until: Date!) {
  offerPerformance(since: $since, until: $until) { rows { offerId title day activations redemptions pointsAwarded pointsReversed } csv }
}`;
const FUNDERS = `query ConsoleOfferFunders { partners(first: 100) { edges { node { id name status } } } }`;
const REWARDS = ["FIXED", "PER_UNIT", "MULTIPLIER", "EFFECT"];

export function Offers({ partner, modules }) {
  const [status, setStatus] = useState("LIVE");
  const [size, more] = usePageSize();
  const state = useQuery(OFFERS, { first: size, status: status || null });
  const [retired, retire] = useAction((offer) => mutate(RETIRE, { input: { id: offer.id } }));
  return html`<${Section} title=${t("offers")}>
    <${Field} label=${t("status")}>
      <select name="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">${t("all")}</option><option value="LIVE">${t("status_LIVE")}</option><option value="RETIRED">${t("status_RETIRED")}</option>
      </select>
    </${Field}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("offers")} rows=${nodes(data.offers)} testid="offer-row" columns=${[
        [t("title"), (o) => o.title],
        [t("reward"), (o) => `${t("offer_reward_" + o.terms.reward)} ${o.terms.effect?.kind ?? o.terms.value ?? ""}`],
        [t("runs"), (o) => `${date(o.startsAt)} – ${date(o.endsAt)}`],
        [t("used"), (o) => `${num(o.used)}${o.budget ? " / " + num(o.budget) : ""}`],
        [t("status"), (o) => html`<${Status} value=${o.status} />${o.conditionFailures > 0 && html` <span class="error">${t("failures_count", { n: o.conditionFailures })}</span>`}`],
        [t("actions"), (o) => o.status === "LIVE" && html`<button class="secondary danger" disabled=${retired.busy}
          aria-label=${t("retire_named", { name: o.title })}
          onClick=${async () => confirm(t("retire_confirm", { name: o.title })) && (await retire(o)) && state.reload()}>${t("retire")}</button>`],
      ]} />
      <${More} connection=${data.offers} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
    <${Errors} errors=${retired.errors} />
  </${Section}>
  ${!partner && html`<${CreateOffer} clearing=${modules.includes("clearing")} onCreated=${state.reload} />`}
  <${Performance} />`;
}

// A new offer: the retailer's own, or (with clearing) one a partner funds; its reward fixed
// points, points per unit, a multiplier, or (the retailer's own) another module's effect.
function CreateOffer({ clearing, onCreated }) {
  const funders = useQuery(FUNDERS, {}, { skip: !clearing });
  const [form, setForm] = useState({
    title: "", description: "", reward: "FIXED", value: "100", effectKind: "", effectParams: "{}", activation: "CLIP",
    perMemberLimit: "1", startsAt: toLocalInput(new Date()), endsAt: toLocalInput(daysAgo(-30)), minimumSpend: "0",
    segment: "", budget: "", partnerId: "",
  });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const choose = (name) => ({ ...bind(name), onChange: (e) => setForm({ ...form, [name]: e.target.value }) });
  const effect = form.reward === "EFFECT";
  const [state, create] = useAction(() => {
    let params;
    try {
      params = effect ? JSON.parse(form.effectParams || "{}") : null;
    } catch {
      return { errors: [{ code: "INVALID_INPUT", field: "offer.effect.params", message: t("params_not_json") }] };
    }
    return mutate(CREATE, { input: { partnerId: form.partnerId || null, offer: {
      title: form.title, description: form.description, reward: form.reward, value: effect ? null : form.value,
      effect: effect ? { kind: form.effectKind, params } : null, activation: form.activation,
      perMemberLimit: Number(form.perMemberLimit), startsAt: fromLocalInput(form.startsAt), endsAt: fromLocalInput(form.endsAt),
      requirements: { minimumSpend: Number(form.minimumSpend || 0) }, segment: form.segment, budget: form.budget ? Number(form.budget) : null,
    } } });
  });
  const error = (field) => state.errors?.filter((e) => e.field?.endsWith(field)).map((e) => e.message).join("; ") || null;
  const partners = funders.data ? nodes(funders.data.partners).filter((p) => p.status === "ACTIVE") : [];
  return html`<${Section} title=${t("offer_new")}>
    <form class="stack" data-testid="offer-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) onCreated(); }}>
      <${Field} label=${t("title")} error=${error("title")}><input required ...${bind("title")} /></${Field}>
      <${Field} label=${t("description")}><textarea ...${bind("description")}></textarea></${Field}>
      <div class="grid">
        ${clearing && html`<${Field} label=${t("funded_by")} error=${error("partnerId")}>
          <select ...${choose("partnerId")}>
            <option value="">${t("funded_by_retailer")}</option>
            ${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
          </select>
        </${Field}>`}
        <${Field} label=${t("reward")}>
          <select ...${choose("reward")}>${REWARDS.map((r) => html`<option value=${r}>${t("offer_reward_" + r)}</option>`)}</select>
        </${Field}>
        ${effect ? html`
          <${Field} label=${t("effect_kind_of_offer")} hint=${t("effect_kind_hint")} error=${error("effect.kind") ?? error("effect")}><input required ...${bind("effectKind")} /></${Field}>
          <${Field} label=${t("effect_params_of_offer")} error=${error("effect.params")}><input class="mono" ...${bind("effectParams")} /></${Field}>`
        : html`<${Field} label=${t("value")} hint=${t("offer_value_hint")} error=${error("value")}><input required ...${bind("value")} /></${Field}>`}
        <${Field} label=${t("activation")}>
          <select ...${choose("activation")}>
            <option value="CLIP">${t("activation_CLIP")}</option><option value="AUTO">${t("activation_AUTO")}</option>
          </select>
        </${Field}>
        <${Field} label=${t("per_member_limit")} error=${error("perMemberLimit")}><input type="number" min="1" ...${bind("perMemberLimit")} /></${Field}>
        <${Field} label=${t("starts_at")} error=${error("startsAt")}><input type="datetime-local" required ...${bind("startsAt")} /></${Field}>
        <${Field} label=${t("ends_at")} error=${error("endsAt")}><input type="datetime-local" required ...${bind("endsAt")} /></${Field}>
        <${Field} label=${t("minimum_spend")} hint=${t("minor_units")}><input type="number" min="0" ...${bind("minimumSpend")} /></${Field}>
        <${Field} label=${t("segment")} error=${error("segment")}><input ...${bind("segment")} /></${Field}>
        <${Field} label=${t("budget")} error=${error("budget")}><input type="number" min="1" ...${bind("budget")} /></${Field}>
      </div>
      <${Errors} errors=${state.errors} />
      ${state.done && html`<p class="ok" role="status">${t("saved")}</p>`}
      <div><button class="primary" disabled=${state.busy}>${t("create")}</button></div>
    </form>
  </${Section}>`;
}

function Performance() {
  const [since, setSince] = useState(isoDate(daysAgo(30)));
  const [until, setUntil] = useState(isoDate(new Date()));
  const state = useQuery(PERFORMANCE, { since, until });
  return html`<${Section} title=${t("offer_performance")}>
    <div class="row">
      <${Field} label=${t("since")}><input type="date" name="since" value=${since} onChange=${(e) => setSince(e.target.value)} /></${Field}>
      <${Field} label=${t("until")}><input type="date" name="until" value=${until} onChange=${(e) => setUntil(e.target.value)} /></${Field}>
    </div>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("offer_performance")} rows=${data.offerPerformance.rows} testid="performance-row" columns=${[
        [t("day"), (r) => date(r.day)],
        [t("title"), (r) => r.title],
        [t("activations"), (r) => num(r.activations)],
        [t("redemptions"), (r) => num(r.redemptions)],
        [t("points"), (r) => num(r.pointsAwarded - r.pointsReversed)],
      ]} />
      ${data.offerPerformance.rows.length > 0 && html`<div><button class="secondary"
        onClick=${() => download(new Blob([data.offerPerformance.csv], { type: "text/csv" }), `offers-${since}-${until}.csv`)}>${t("download_csv")}</button></div>`}`}
    </${Loaded}>
  </${Section}>`;
}
