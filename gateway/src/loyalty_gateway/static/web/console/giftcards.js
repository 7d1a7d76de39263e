// Gift cards: the tenant's cards with their balance and status, filtered by status; and
// issuing one (its code, and PIN where the tenant wants one, shown once).
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
const STATUSES = ["INACTIVE", "ACTIVE", "CANCELLED", "EXPIRED"];

export function GiftCards({ tenant }) {
  const [status, setStatus] = useState("");
  const [lastFour, setLastFour] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(CARDS, { first: size, status: status || null, lastFour: lastFour.length === 4 ? lastFour : null });
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
        [t("card"), (c) => "…" + c.lastFour],
        [t("balance"), (c) => minor(c.balance, c.currency)],
        [t("held"), (c) => (c.held ? minor(c.held, c.currency) : "")],
        [t("status"), (c) => html`<${Status} value=${c.status} />`],
        [t("member"), (c) => c.memberId && html`<a href=${"#/members/" + c.memberId}>${t("open")}</a>`],
        [t("last_used"), (c) => dateTime(c.lastUsedAt)],
        [t("expires"), (c) => date(c.expiresAt)],
      ]} />
      <${More} connection=${data.giftCards} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>
  <${Issue} currency=${tenant.defaultCurrency} onIssued=${state.reload} />`;
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
