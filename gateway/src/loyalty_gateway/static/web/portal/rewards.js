// Rewards: the catalogue the member may redeem points for, and the vouchers it holds, each
// code as a QR code for the till.
import qrcode from "qrcode-generator";
import { mutate, useQuery } from "../common/api.js";
import { date, lang, money, num, t } from "../common/i18n.js";
import { Errors, Loaded, Section, html, useAction } from "../common/ui.js";

const REWARDS = `query Rewards($id: ID!) {
  rewards(first: 50) { edges { node { id name kind redeemable points asset moneyAmount moneyCurrency
    texts { locale title description } } } }
  member(id: $id) { id
    vouchers { id code lastFour status discount amount percent currency expiresAt }
    rewardRedemptions { id rewardId status points asset createdAt issued }
  }
}`;
const REDEEM = `mutation Redeem($input: RewardRedeemInput!) {
  rewardRedeem(input: $input) { code redemption { id status } errors { code field message } }
}`;

export function Rewards({ member }) {
  const state = useQuery(REWARDS, { id: member.id });
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Section} title=${t("nav_rewards")}>
      <ul class="list">
        ${data.rewards.edges.map(({ node }) => html`<${RewardItem} reward=${node} reload=${state.reload} />`)}
      </ul>
    </${Section}>
    <${Section} title=${t("vouchers")}>
      ${data.member.vouchers.length
        ? html`<ul class="list">${data.member.vouchers.map((v) => html`<${VoucherItem} voucher=${v} />`)}</ul>`
        : html`<p class="muted">${t("no_vouchers")}</p>`}
    </${Section}>`}
  </${Loaded}>`;
}

function text(reward) {
  return reward.texts.find((x) => x.locale.startsWith(lang())) ?? reward.texts[0] ?? { title: reward.name };
}

function RewardItem({ reward, reload }) {
  const [state, redeem] = useAction(() =>
    mutate(REDEEM, { input: { rewardId: reward.id, idempotencyKey: crypto.randomUUID() } }),
  );
  const { title, description } = text(reward);
  return html`<li data-testid="reward">
    <div class="row"><strong>${title}</strong>
      <span class="pill">${num(reward.points)} ${reward.asset}${reward.moneyAmount ? " + " + money(reward.moneyAmount / 100, reward.moneyCurrency) : ""}</span>
    </div>
    ${description && html`<p>${description}</p>`}
    ${reward.redeemable && !reward.moneyAmount && html`<button class="primary" disabled=${state.busy}
        onClick=${async () => (await redeem()) && reload()}>${t("redeem")} <span class="sr-only">${title}</span></button>`}
    ${state.done && html`<p class="ok" role="status">${t("redeemed")}</p>`}
    <${Errors} errors=${state.errors} />
  </li>`;
}

function VoucherItem({ voucher }) {
  const value = voucher.amount ? money(voucher.amount / 100, voucher.currency ?? "EUR") : voucher.percent ? `${voucher.percent} %` : voucher.discount;
  let qr = null;
  if (voucher.code) {
    const code = qrcode(0, "M");
    code.addData(voucher.code);
    code.make();
    qr = code.createDataURL(3, 6);
  }
  return html`<li data-testid="voucher">
    <div class="row"><strong>${value}</strong><span class="pill">${voucher.status}</span></div>
    ${qr && html`<div class="qr"><img src=${qr} alt=${t("voucher_qr", { code: voucher.code })} /></div>`}
    <p><code>${voucher.code ?? "…" + voucher.lastFour}</code></p>
    ${voucher.expiresAt && html`<p class="muted">${t("valid_until", { date: date(voucher.expiresAt) })}</p>`}
  </li>`;
}
