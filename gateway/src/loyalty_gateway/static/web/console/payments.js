// Payments: the tenant's payments (orders paid with points, gift cards and other tenders),
// by status, with what is held, captured and refunded; one payment's tenders and timeline.
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
const PAYMENT = `query ConsolePayment($id: ID!) {
  payment(id: $id) { id orderReference currency amount amountDue
    tenders { position tender label held captured refunded }
    timeline { id kind amount actor createdAt } }
}`;
const STATUSES = ["AUTHORIZED", "CAPTURED", "VOIDED", "EXPIRED", "REFUNDED"];

export function Payments() {
  const [status, setStatus] = useState("");
  const [order, setOrder] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(PAYMENTS, { first: size, status: status || null, orderReference: order.trim() || null });
  const [open, setOpen] = useState(null);
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
        [t("order"), (p) => html`<button class="linklike" aria-expanded=${open === p.id}
          aria-label=${t("payment_details", { order: p.orderReference })} onClick=${() => setOpen(open === p.id ? null : p.id)}>${p.orderReference}</button>`],
        [t("amount"), (p) => minor(p.amount, p.currency)],
        [t("captured"), (p) => minor(p.captured, p.currency)],
        [t("refunded"), (p) => (p.refunded ? minor(p.refunded, p.currency) : "")],
        [t("status"), (p) => html`<${Status} value=${p.status} />`],
        [t("member"), (p) => p.memberId && html`<a href=${"#/members/" + p.memberId}>${t("open")}</a>`],
      ]} />
      <${More} connection=${data.payments} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>
  ${open && html`<${PaymentDetail} id=${open} />`}`;
}

function PaymentDetail({ id }) {
  const state = useQuery(PAYMENT, { id });
  return html`<${Loaded} state=${state}>${(data) => {
    const p = data.payment;
    if (!p) return html`<p role="alert">${t("not_found")}</p>`;
    return html`<${Section} title=${t("payment_of", { order: p.orderReference })}>
      <p>${t("amount")}: <strong>${minor(p.amount, p.currency)}</strong>${p.amountDue > 0 && html` · ${t("amount_due")}: ${minor(p.amountDue, p.currency)}`}</p>
      <h3>${t("tenders")}</h3>
      <${Table} caption=${t("tenders")} rows=${p.tenders} testid="tender-row" columns=${[
        [t("tender"), (x) => x.label || x.tender],
        [t("held"), (x) => minor(x.held, p.currency)],
        [t("captured"), (x) => minor(x.captured, p.currency)],
        [t("refunded"), (x) => minor(x.refunded, p.currency)],
      ]} />
      <h3>${t("timeline")}</h3>
      <${Table} caption=${t("timeline")} rows=${p.timeline} testid="payment-operation-row" columns=${[
        [t("when"), (o) => dateTime(o.createdAt)],
        [t("operation"), (o) => t("operation_" + o.kind)],
        [t("amount"), (o) => minor(o.amount, p.currency)],
        [t("by"), (o) => o.actor],
      ]} />
    </${Section}>`;
  }}</${Loaded}>`;
}
