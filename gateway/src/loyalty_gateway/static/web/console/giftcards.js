// Gift cards: the tenant's cards with their balance and status, filtered by status, each
// with its history and cancellable; and issuing one (its code, and PIN where the tenant
// wants one, shown once).
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, dateTime, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { More, Status, minor, newKey, nodes, toMinor, usePageSize } from "./parts.js";

const CARDS = `query ConsoleGiftCards($first: Int, $status: GiftCardStatus, $lastFour: String) {
  giftCards(first: $first, status: $status, lastFour: $lastFour) {
    edges { node { id lastFour currency status memberId balance held expiresAt lastUsedAt createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const ISSUE = `mutation ConsoleGiftCardIssue($input: GiftCardIssueInput!) {
  giftCardIssue(input: $input) { giftCard { id lastFour } code pin replayed errors { code field message } }
}`;
// A card's events, read only for the card opened (a list of cards with every card's events
// would cost more than a query may). Found among the cards ending in its last four digits.
const EVENTS = `query ConsoleGiftCardEvents($lastFour: String) {
  giftCards(first: 10, lastFour: $lastFour) { edges { node { id events { id kind amount balanceAfter actor cause createdAt } } } }
}`;
const CANCEL = `mutation ConsoleGiftCardCancel($input: GiftCardCancelInput!) {
  giftCardCancel(input: $input) { giftCard { id status } errors { code field message } }
}`;
const STATUSES = ["INACTIVE", "ACTIVE", "CANCELLED", "EXPIRED"];

export function GiftCards({ tenant }) {
  const [status, setStatus] = useState("");
  const [lastFour, setLastFour] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(CARDS, { first: size, status: status || null, lastFour: lastFour.length === 4 ? lastFour : null });
  const [openId, setOpen] = useState(null);
  const openCard = state.data && nodes(state.data.giftCards).find((c) => c.id === openId);
  const [cancelled, cancel] = useAction((card) => mutate(CANCEL, { input: { id: card.id } }));
  return html`<${Section} title=${t("gift_cards")}>
    <div class="row">
      <${Field} label=${t("status")}>
        <select name="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">${t("all")}</option>
          ${STATUSES.map((s) => html`<option value=${s}>${t("status_" + s)}</option>`)}
        </select>
      </${Field}>
      <${Field} label=${t("last_four")}><input name="lastFour" inputmode="numeric" maxlength="4" value=${lastFour} onInput=${(e) => setLastFour(e.target.value)} /></${Field}>
    </div>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("gift_cards")} rows=${nodes(data.giftCards)} testid="gift-card-row" columns=${[
        [t("card"), (c) => html`<button class="linklike" aria-expanded=${openId === c.id}
          aria-label=${t("card_history", { card: c.lastFour })} onClick=${() => setOpen(openId === c.id ? null : c.id)}>…${c.lastFour}</button>`],
        [t("balance"), (c) => minor(c.balance, c.currency)],
        [t("held"), (c) => (c.held ? minor(c.held, c.currency) : "")],
        [t("status"), (c) => html`<${Status} value=${c.status} />`],
        [t("member"), (c) => c.memberId && html`<a href=${"#/members/" + c.memberId}>${t("open")}</a>`],
        [t("last_used"), (c) => dateTime(c.lastUsedAt)],
        [t("expires"), (c) => date(c.expiresAt)],
        [t("actions"), (c) => (c.status === "ACTIVE" || c.status === "INACTIVE") && html`<button class="secondary danger" disabled=${cancelled.busy}
          aria-label=${t("cancel_card", { card: c.lastFour })}
          onClick=${async () => confirm(t("cancel_card_confirm", { card: c.lastFour })) && (await cancel(c)) && state.reload()}>${t("cancel_card_short")}</button>`],
      ]} />
      <${More} connection=${data.giftCards} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
    <${Errors} errors=${cancelled.errors} />
  </${Section}>
  ${openCard && html`<${CardHistory} key=${openCard.id + openCard.status} card=${openCard} />`}
  <${Issue} currency=${tenant.defaultCurrency} onIssued=${state.reload} />`;
}

// A card's history: every issue, activation, redemption, reload... with the balance after.
function CardHistory({ card }) {
  const state = useQuery(EVENTS, { lastFour: card.lastFour });
  return html`<${Section} title=${t("card_history", { card: card.lastFour })}>
    <${Loaded} state=${state}>${(data) => html`<${Table} caption=${t("card_history", { card: card.lastFour })}
      rows=${nodes(data.giftCards).find((c) => c.id === card.id)?.events ?? []} testid="gift-card-event-row" columns=${[
        [t("when"), (e) => dateTime(e.createdAt)],
        [t("operation"), (e) => t("card_event_" + e.kind)],
        [t("amount"), (e) => minor(e.amount, card.currency)],
        [t("balance"), (e) => minor(e.balanceAfter, card.currency)],
        [t("by"), (e) => e.actor],
        [t("cause"), (e) => e.cause],
      ]} />`}
    </${Loaded}>
  </${Section}>`;
}

function Issue({ currency, onIssued }) {
  const [form, setForm] = useState({ amount: "", currency, memberId: "" });
  const [key, setKey] = useState(newKey());
  const [state, issue] = useAction(() =>
    mutate(ISSUE, { input: { amount: toMinor(form.amount, form.currency), currency: form.currency, memberId: form.memberId || null, idempotencyKey: key } }),
  );
  const submit = async (e) => {
    e.preventDefault();
    if (await issue()) {
      setKey(newKey());
      onIssued();
    }
  };
  return html`<${Section} title=${t("gift_card_issue")}>
    <form class="stack" onSubmit=${submit} data-testid="gift-card-form">
      <div class="grid">
        <${Field} label=${t("amount_major", { currency: form.currency })}>
          <input name="amount" type="number" min="0" step="0.01" required value=${form.amount} onInput=${(e) => setForm({ ...form, amount: e.target.value })} />
        </${Field}>
        <${Field} label=${t("currency")}><input name="currency" maxlength="3" required value=${form.currency} onInput=${(e) => setForm({ ...form, currency: e.target.value.toUpperCase() })} /></${Field}>
        <${Field} label=${t("member_id_optional")}><input name="memberId" value=${form.memberId} onInput=${(e) => setForm({ ...form, memberId: e.target.value })} /></${Field}>
      </div>
      <${Errors} errors=${state.errors} />
      <div><button class="primary" disabled=${state.busy}>${t("issue")}</button></div>
    </form>
    ${state.done && html`<div class="secret" role="status" data-testid="gift-card-code">
      <p><strong>${t("code_once")}</strong></p>
      <p>${t("code")}: <code>${state.done.code ?? "—"}</code>${state.done.pin && html` · PIN: <code>${state.done.pin}</code>`}</p>
    </div>`}
  </${Section}>`;
}
