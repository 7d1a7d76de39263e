// Wallet: the member's gift cards with their balance, and its payments with points or cards.
import { useQuery } from "../common/api.js";
import { date, dateTime, money, t } from "../common/i18n.js";
import { Loaded, Section, Table, html } from "../common/ui.js";

const CARDS = `query GiftCards($id: ID!) {
  member(id: $id) { id giftCards { id lastFour currency status balance expiresAt } }
}`;
const PAYMENTS = `query Payments($id: ID!) {
  member(id: $id) { id payments(first: 20) { id orderReference currency amount status createdAt } }
}`;

export function Wallet({ member, modules }) {
  const cards = useQuery(CARDS, { id: member.id }, { skip: !modules.includes("giftcards") });
  const payments = useQuery(PAYMENTS, { id: member.id }, { skip: !modules.includes("payment") });
  return html`
    ${modules.includes("giftcards") && html`<${Section} title=${t("gift_cards")}>
      <${Loaded} state=${cards}>${(data) => html`<${Table} caption=${t("gift_cards")} rows=${data.member.giftCards} columns=${[
        [t("card"), (c) => "…" + c.lastFour],
        [t("balance"), (c) => money(c.balance / 100, c.currency)],
        [t("status"), (c) => c.status],
        [t("valid_until_short"), (c) => date(c.expiresAt)],
      ]} />`}</${Loaded}>
    </${Section}>`}
    ${modules.includes("payment") && html`<${Section} title=${t("payments")}>
      <${Loaded} state=${payments}>${(data) => html`<${Table} caption=${t("payments")} rows=${data.member.payments} columns=${[
        [t("when"), (p) => dateTime(p.createdAt)],
        [t("order"), (p) => p.orderReference],
        [t("amount"), (p) => money(p.amount / 100, p.currency)],
        [t("status"), (p) => p.status],
      ]} />`}</${Loaded}>
    </${Section}>`}`;
}
