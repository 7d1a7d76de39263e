// Payments: the tenant's payments (orders paid with points, gift cards and other tenders),
// by status, with what is held, captured and refunded.
import { useState } from "preact/hooks";
import { useQuery } from "../common/api.js";
import { dateTime, t } from "../common/i18n.js";
import { Field, Loaded, Section, Table, html } from "../common/ui.js";
import { More, Status, minor, nodes, usePageSize } from "./parts.js";

const PAYMENTS = `query ConsolePayments($first: Int, $status: PaymentStatus, $orderReference: String) {
  payments(first: $first, status: $status, orderReference: $orderReference) {
    edges { node { id memberId orderReference currency amount status held captured refunded amountDue createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const STATUSES = ["AUTHORIZED", "CAPTURED", "VOIDED", "EXPIRED", "REFUNDED"];

export function Payments() {
  const [status, setStatus] = useState("");
  const [order, setOrder] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(PAYMENTS, { first: size, status: status || null, orderReference: order.trim() || null });
  return html`<${Section} title=${t("payments")}>
    <div class="row">
      <${Field} label=${t("status")}>
        <select name="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">${t("all")}</option>
          ${STATUSES.map((s) => html`<option value=${s}>${t("status_" + s)}</option>`)}
        </select>
      </${Field}>
      <${Field} label=${t("order")}><input name="order" value=${order} onChange=${(e) => setOrder(e.target.value)} /></${Field}>
    </div>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("payments")} rows=${nodes(data.payments)} testid="payment-row" columns=${[
        [t("when"), (p) => dateTime(p.createdAt)],
        [t("order"), (p) => p.orderReference],
        [t("amount"), (p) => minor(p.amount, p.currency)],
        [t("captured"), (p) => minor(p.captured, p.currency)],
        [t("refunded"), (p) => (p.refunded ? minor(p.refunded, p.currency) : "")],
        [t("status"), (p) => html`<${Status} value=${p.status} />`],
        [t("member"), (p) => p.memberId && html`<a href=${"#/members/" + p.memberId}>${t("open")}</a>`],
      ]} />
      <${More} connection=${data.payments} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>`;
}
