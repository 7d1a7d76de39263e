// Rewards: the catalogue (what a member can redeem points for, with stock and limits),
// adding a simple reward, and the vouchers issued, by status.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, lang, num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { More, Status, nodes, usePageSize } from "./parts.js";
import { voucherValue } from "./members.js";

const REWARDS = `query ConsoleRewards($first: Int) {
  rewards(first: $first) {
    edges { node { id name kind active redeemable asset points stock memberLimit memberLimitDays validUntil segment segmentFailures segmentError } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const VOUCHERS = `query ConsoleVouchers($first: Int, $status: VoucherStatus) {
  vouchers(first: $first, status: $status) {
    edges { node { id lastFour memberId rewardId discount amount percent itemSku currency uses maxUses status expiresAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CREATE = `mutation ConsoleRewardCreate($input: RewardCreateInput!) {
  rewardCreate(input: $input) { reward { id } errors { code field message } }
}`;
// Vouchers, entitlements and gift cards need a template the simple form does not have: the
// API says which is missing.
const KINDS = ["PHYSICAL", "VOUCHER", "ENTITLEMENT", "GIFT_CARD"];
const VOUCHER_STATUSES = ["AVAILABLE", "ACTIVE", "REDEEMED", "CANCELLED", "EXPIRED"];

export function Rewards() {
  const [size, more] = usePageSize();
  const state = useQuery(REWARDS, { first: size });
  return html`<${Section} title=${t("rewards")}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("rewards")} rows=${nodes(data.rewards)} testid="reward-row" columns=${[
        [t("name"), (r) => r.name],
        [t("kind"), (r) => t("reward_kind_" + r.kind)],
        [t("price"), (r) => `${num(r.points)} ${r.asset}`],
        [t("stock"), (r) => (r.stock === null ? "∞" : num(r.stock))],
        [t("limit"), (r) => (r.memberLimit ? t("limit_per", { n: r.memberLimit, days: r.memberLimitDays ?? "∞" }) : "")],
        [t("status"), (r) => html`<${Status} value=${r.active ? "ACTIVE" : "INACTIVE"} />${r.segmentError && html` <span class="error">${r.segmentError}</span>`}`],
        [t("valid_until"), (r) => date(r.validUntil)],
      ]} />
      <${More} connection=${data.rewards} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>
  <${CreateReward} onCreated=${state.reload} />
  <${Vouchers} />`;
}

function CreateReward({ onCreated }) {
  const [form, setForm] = useState({ name: "", kind: "PHYSICAL", points: "500", stock: "", title: "" });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const [state, create] = useAction(() => mutate(CREATE, { input: {
    name: form.name, kind: form.kind, points: Number(form.points), stock: form.stock ? Number(form.stock) : null,
    texts: form.title ? [{ locale: lang(), title: form.title }] : [],
  } }));
  const error = (field) => state.errors?.filter((e) => e.field === field).map((e) => e.message).join("; ") || null;
  return html`<${Section} title=${t("reward_new")}>
    <form class="stack" data-testid="reward-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) onCreated(); }}>
      <div class="grid">
        <${Field} label=${t("name")} error=${error("name")}><input required ...${bind("name")} /></${Field}>
        <${Field} label=${t("kind")} hint=${t("reward_kind_hint")} error=${error("kind")}>
          <select ...${bind("kind")} onChange=${(e) => setForm({ ...form, kind: e.target.value })}>
            ${KINDS.map((kind) => html`<option value=${kind}>${t("reward_kind_" + kind)}</option>`)}
          </select>
        </${Field}>
        <${Field} label=${t("points_price")} error=${error("points")}><input type="number" min="0" required ...${bind("points")} /></${Field}>
        <${Field} label=${t("stock")} hint=${t("stock_hint")} error=${error("stock")}><input type="number" min="0" ...${bind("stock")} /></${Field}>
        <${Field} label=${t("title_for_members")}><input ...${bind("title")} /></${Field}>
      </div>
      <${Errors} errors=${state.errors} />
      ${state.done && html`<p class="ok" role="status">${t("saved")}</p>`}
      <div><button class="primary" disabled=${state.busy}>${t("create")}</button></div>
    </form>
  </${Section}>`;
}

function Vouchers() {
  const [status, setStatus] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(VOUCHERS, { first: size, status: status || null });
  return html`<${Section} title=${t("vouchers")}>
    <${Field} label=${t("status")}>
      <select name="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">${t("all")}</option>
        ${VOUCHER_STATUSES.map((s) => html`<option value=${s}>${t("status_" + s)}</option>`)}
      </select>
    </${Field}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("vouchers")} rows=${nodes(data.vouchers)} testid="voucher-row" columns=${[
        [t("code"), (v) => "…" + v.lastFour],
        [t("discount"), (v) => voucherValue(v)],
        [t("uses"), (v) => `${v.uses}${v.maxUses ? " / " + v.maxUses : ""}`],
        [t("status"), (v) => html`<${Status} value=${v.status} />`],
        [t("member"), (v) => v.memberId && html`<a href=${"#/members/" + v.memberId}>${t("open")}</a>`],
        [t("expires"), (v) => date(v.expiresAt)],
      ]} />
      <${More} connection=${data.vouchers} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>`;
}
