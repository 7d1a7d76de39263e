// Members: find one by any identifier (card, e-mail, phone, external id) or name, then its
// whole picture: balances, the ledger with each entry's cause in words, and each enabled
// module's part (tier, offers, vouchers, gift cards, games, payments, consents). An admin
// adjusts points with a reason (each adjustment with its own idempotency key, so a retried
// click books once), blocks or unblocks the member, and answers a request for its data
// (export) or its erasure.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, dateTime, num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { More, Status, download, minor, newKey, nodes, usePageSize } from "./parts.js";

const MEMBERS = `query ConsoleMembers($search: String, $status: MemberStatus, $first: Int) {
  members(search: $search, status: $status, first: $first) {
    edges { node { id status firstName lastName createdAt identifiers { kind value } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const MEMBER = `query ConsoleMember($id: ID!) {
  member(id: $id) { id status firstName lastName birthDate locale enrolmentChannel createdAt attributes
    identifiers { kind value }
    balances { asset { code name kind scale } available pending held }
    activeCampaigns { id name trigger } }
  tenant { assets { code name kind } }
}`;
const EXPLAIN = `query ConsoleExplain($id: ID!, $first: Int) {
  explainBalance(memberId: $id, first: $first) { at asset amount kind cause campaignId campaignVersion }
}`;
const TIER = `query ConsoleMemberTier($id: ID!) {
  member(id: $id) { id tier { level { name } source since until graceUntil override { level reason operator expiresAt } }
    tierProgress { value missing keep windowEnd nextLevel { name } } }
  tierLadder { levels { name } }
}`;
const OVERRIDE = `mutation ConsoleTierOverride($input: TierOverrideInput!) {
  tierOverride(input: $input) { tier { level { name } } errors { code field message } }
}`;
const OFFERS = `query ConsoleMemberOffers($id: ID!) {
  member(id: $id) { id offers(first: 50) { edges { node { offer { id title activation } state activatedAt endsAt redeemed } } } }
}`;
const OFFER_ACTIVATE = `mutation ConsoleOfferActivate($input: OfferMemberInput!) {
  offerActivate(input: $input) { memberOffer { state } errors { code field message } }
}`;
const VOUCHERS = `query ConsoleMemberVouchers($id: ID!) {
  member(id: $id) { id vouchers { id lastFour status discount amount percent currency uses maxUses expiresAt } }
}`;
const GIFT_CARDS = `query ConsoleMemberGiftCards($id: ID!) {
  member(id: $id) { id giftCards { id lastFour currency status balance held expiresAt } }
}`;
const GAMES = `query ConsoleMemberGames($id: ID!) {
  member(id: $id) { id badges { badge { id name } progress target earned }
    streaks { streak { id name unit } length best } }
}`;
const PAYMENTS = `query ConsoleMemberPayments($id: ID!) {
  member(id: $id) { id payments(first: 20) { id orderReference currency amount status createdAt } }
}`;
const CONSENTS = `query ConsoleMemberConsents($id: ID!) {
  consents(memberId: $id) { purpose granted channel recordedAt }
}`;
const ADJUST = `mutation ConsolePointsAdjust($input: PointsAdjustInput!) {
  pointsAdjust(input: $input) { replayed errors { code field message } }
}`;
const EXPORT = `mutation ConsoleMemberExport($input: MemberExportInput!) {
  memberExport(input: $input) { data errors { code field message } }
}`;
const ERASE = `mutation ConsoleMemberErase($input: MemberEraseInput!) {
  memberErase(input: $input) { erased errors { code field message } }
}`;
const STATUS = `mutation ConsoleMemberStatus($input: MemberUpdateInput!) {
  memberUpdate(input: $input) { member { id status } errors { code field message } }
}`;

export function Members({ route, modules }) {
  const id = route.startsWith("/members/") ? decodeURIComponent(route.slice("/members/".length)) : null;
  return id ? html`<${MemberView} id=${id} modules=${modules} />` : html`<${MemberSearch} />`;
}

function MemberSearch() {
  const [text, setText] = useState(sessionStorage.getItem("loyalty.console.search") ?? "");
  const [search, setSearch] = useState(text);
  const [status, setStatus] = useState("");
  const [size, more] = usePageSize();
  const state = useQuery(MEMBERS, { search: search || null, status: status || null, first: size });
  const submit = (e) => {
    e.preventDefault();
    sessionStorage.setItem("loyalty.console.search", text);
    setSearch(text.trim());
  };
  return html`<${Section} title=${t("members")}>
    <form class="row search" role="search" onSubmit=${submit}>
      <${Field} label=${t("member_search")} hint=${t("member_search_hint")}>
        <input type="search" name="search" value=${text} onInput=${(e) => setText(e.target.value)} />
      </${Field}>
      <${Field} label=${t("status")}>
        <select name="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">${t("all")}</option>
          ${["ACTIVE", "BLOCKED", "ERASED"].map((s) => html`<option value=${s}>${t("status_" + s)}</option>`)}
        </select>
      </${Field}>
      <button class="primary">${t("search")}</button>
    </form>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("members")} rows=${nodes(data.members)} testid="member-row" columns=${[
        [t("name"), (m) => html`<a href=${"#/members/" + m.id} data-testid="member-link">${fullName(m)}</a>`],
        [t("identifiers"), (m) => m.identifiers.map((i) => i.value).join(" · ")],
        [t("status"), (m) => html`<${Status} value=${m.status} />`],
        [t("member_since"), (m) => date(m.createdAt)],
      ]} />
      <${More} connection=${data.members} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>`;
}

function fullName(member) {
  return [member.firstName, member.lastName].filter(Boolean).join(" ") || t("no_name");
}

function MemberView({ id, modules }) {
  const state = useQuery(MEMBER, { id });
  const [ledgerSize, moreLedger] = usePageSize(20);
  const explain = useQuery(EXPLAIN, { id, first: ledgerSize });
  const on = (name) => modules.includes(name);
  const reload = () => {
    state.reload();
    explain.reload();
  };
  return html`<p><a href="#/members">← ${t("back_to_members")}</a></p>
    <${Loaded} state=${state}>${(data) => {
      const member = data.member;
      if (!member) return html`<p role="alert">${t("not_found")}</p>`;
      return html`
        <${Section} title=${fullName(member)} actions=${html`<${Status} value=${member.status} />`}>
          <dl class="facts" data-testid="member-facts">
            <dt>${t("identifiers")}</dt><dd>${member.identifiers.map((i) => html`<span class="pill">${t("identifier_" + i.kind)}: ${i.value}</span> `)}</dd>
            <dt>${t("member_since")}</dt><dd>${date(member.createdAt)} (${member.enrolmentChannel})</dd>
            ${member.birthDate && html`<dt>${t("birth_date")}</dt><dd>${date(member.birthDate)}</dd>`}
            ${member.activeCampaigns.length > 0 && html`<dt>${t("active_campaigns")}</dt>
              <dd>${member.activeCampaigns.map((c) => c.name).join(", ")}</dd>`}
          </dl>
          <${Balances} balances=${member.balances} />
        </${Section}>
        <div class="grid">
          ${member.status !== "ERASED" && html`<${Adjust} member=${member} assets=${data.tenant.assets} onDone=${reload} />`}
          ${member.status !== "ERASED" && html`<${Block} member=${member} onDone=${state.reload} />`}
        </div>
        <${Section} title=${t("ledger")}>
          <${Loaded} state=${explain}>${(rows) => html`
            <${Table} caption=${t("ledger")} rows=${rows.explainBalance ?? []} testid="ledger-row" columns=${[
              [t("when"), (r) => dateTime(r.at)],
              [t("kind"), (r) => t("kind_" + r.kind)],
              [t("amount"), (r) => html`<span class=${r.amount < 0 ? "neg" : "pos"}>${r.amount > 0 ? "+" : ""}${num(r.amount)}</span> ${r.asset}`],
              [t("cause"), (r) => html`${r.cause}${r.campaignId && html` <a href=${"#/campaigns/" + r.campaignId}>${t("campaign_version", { v: r.campaignVersion })}</a>`}`],
            ]} />
            ${(rows.explainBalance ?? []).length >= ledgerSize && html`<div><button class="secondary" onClick=${moreLedger}>${t("show_more")}</button></div>`}`}
          </${Loaded}>
        </${Section}>
        ${on("tiers") && html`<${MemberTier} id=${id} />`}
        ${on("partner_offers") && html`<${MemberOffers} id=${id} />`}
        ${on("rewards") && html`<${MemberVouchers} id=${id} />`}
        ${on("giftcards") && html`<${MemberGiftCards} id=${id} />`}
        ${on("gamification") && html`<${MemberGames} id=${id} />`}
        ${on("payment") && html`<${MemberPayments} id=${id} />`}
        ${on("onboarding") && html`<${MemberConsents} id=${id} />`}
        ${member.status !== "ERASED" && html`<${Privacy} member=${member} onErased=${reload} />`}`;
    }}</${Loaded}>`;
}

function Balances({ balances }) {
  return html`<${Table} caption=${t("balances")} rows=${balances} testid="balance-row" columns=${[
    [t("asset"), (b) => b.asset.name],
    [t("available"), (b) => scaled(b.available, b.asset.scale)],
    [t("pending"), (b) => scaled(b.pending, b.asset.scale)],
    [t("held"), (b) => scaled(b.held, b.asset.scale)],
  ]} />`;
}

function scaled(value, scale) {
  return num(value / 10 ** scale);
}

function Adjust({ member, assets, onDone }) {
  const pointAssets = assets.filter((a) => a.kind === "POINTS");
  // The programme's points (`points`, as the API defaults to) unless the tenant has none.
  const main = pointAssets.find((a) => a.code === "points") ?? pointAssets[0];
  const [form, setForm] = useState({ amount: "", reason: "", assetCode: main?.code ?? "points" });
  // One key per adjustment: a retry after a lost answer books it once; a new one after it is done.
  const [key, setKey] = useState(newKey());
  const [state, run] = useAction(() =>
    mutate(ADJUST, { input: { memberId: member.id, amount: Number(form.amount), reason: form.reason, assetCode: form.assetCode, idempotencyKey: key } }),
  );
  const submit = async (e) => {
    e.preventDefault();
    if (await run()) {
      setKey(newKey());
      setForm({ ...form, amount: "", reason: "" });
      onDone();
    }
  };
  return html`<${Section} title=${t("adjust_points")}>
    <form class="stack" onSubmit=${submit} data-testid="adjust-form">
      <${Field} label=${t("asset")}>
        <select name="assetCode" value=${form.assetCode} onChange=${(e) => setForm((f) => ({ ...f, assetCode: e.target.value }))}>
          ${pointAssets.map((a) => html`<option value=${a.code}>${a.name}</option>`)}
        </select>
      </${Field}>
      <${Field} label=${t("points_amount")} hint=${t("points_amount_hint")}>
        <input name="amount" type="number" step="1" required value=${form.amount} onInput=${(e) => setForm((f) => ({ ...f, amount: e.target.value }))} />
      </${Field}>
      <${Field} label=${t("reason")}>
        <input name="reason" required maxlength="200" value=${form.reason} onInput=${(e) => setForm((f) => ({ ...f, reason: e.target.value }))} />
      </${Field}>
      <${Errors} errors=${state.errors} />
      ${state.done && html`<p class="ok" role="status">${state.done.replayed ? t("adjusted_replayed") : t("adjusted")}</p>`}
      <div><button class="primary" disabled=${state.busy}>${t("adjust")}</button></div>
    </form>
  </${Section}>`;
}

function Block({ member, onDone }) {
  const blocked = member.status === "BLOCKED";
  const [state, run] = useAction(() => mutate(STATUS, { input: { id: member.id, status: blocked ? "ACTIVE" : "BLOCKED" } }));
  return html`<${Section} title=${t("member_status")}>
    <p>${blocked ? t("blocked_text") : t("active_text")}</p>
    <${Errors} errors=${state.errors} />
    <div><button class=${blocked ? "primary" : "secondary danger"} disabled=${state.busy} data-testid="block-toggle"
      onClick=${async () => (await run()) && onDone()}>${blocked ? t("unblock") : t("block")}</button></div>
  </${Section}>`;
}

// A member's request under the GDPR, handled by support: everything the programme holds
// as a download, or erasure (final: personal data gone, points forfeited).
function Privacy({ member, onErased }) {
  const [exported, runExport] = useAction(async () => {
    const payload = await mutate(EXPORT, { input: { memberId: member.id } });
    if (!payload.errors.length) {
      download(new Blob([JSON.stringify(payload.data, null, 2)], { type: "application/json" }), `member-${member.id}.json`);
    }
    return payload;
  });
  const [confirmation, setConfirmation] = useState("");
  const [erased, erase] = useAction(() => mutate(ERASE, { input: { memberId: member.id } }));
  const word = t("erase_word");
  return html`<${Section} title=${t("privacy")}>
    <div><button class="secondary" disabled=${exported.busy} data-testid="member-export" onClick=${runExport}>${t("export_data")}</button></div>
    <${Errors} errors=${exported.errors} />
    <h3>${t("erase_member")}</h3>
    <p>${t("erase_member_text")}</p>
    <form class="stack" data-testid="member-erase" onSubmit=${async (e) => { e.preventDefault(); if (confirmation === word && (await erase())) onErased(); }}>
      <${Field} label=${t("erase_confirm", { word })}>
        <input name="confirm" autocomplete="off" value=${confirmation} onInput=${(e) => setConfirmation(e.target.value)} />
      </${Field}>
      <${Errors} errors=${erased.errors} />
      <div><button class="secondary danger" disabled=${confirmation !== word || erased.busy}>${t("erase_member")}</button></div>
    </form>
  </${Section}>`;
}

function MemberTier({ id }) {
  const state = useQuery(TIER, { id });
  return html`<${Section} title=${t("tier")}><${Loaded} state=${state}>${(data) => {
    const { tier, tierProgress: progress } = data.member;
    return html`
      ${tier ? html`<p><strong>${tier.level.name}</strong> ${t("tier_until", { date: date(tier.until) })} · ${t("tier_source_" + tier.source)}</p>`
        : html`<p class="muted">${t("no_tier")}</p>`}
      ${tier?.override && html`<p>${t("override_by", { operator: tier.override.operator, reason: tier.override.reason, date: date(tier.override.expiresAt) })}</p>`}
      ${progress?.nextLevel && html`<p>${t("tier_missing", { n: num(progress.missing), level: progress.nextLevel.name, date: date(progress.windowEnd) })}</p>`}
      ${data.tierLadder && html`<${Override} id=${id} levels=${data.tierLadder.levels} overridden=${Boolean(tier?.override)} onDone=${state.reload} />`}`;
  }}</${Loaded}></${Section}>`;
}

// A level set by hand (a complaint, a celebrity, a test): always with a reason and an end.
function Override({ id, levels, overridden, onDone }) {
  const [form, setForm] = useState({ level: levels[0]?.name ?? "", reason: "", expiresAt: "" });
  const [state, run] = useAction((lift) =>
    mutate(OVERRIDE, { input: lift ? { memberId: id, level: null, reason: form.reason || "lifted" }
      : { memberId: id, level: form.level, reason: form.reason, expiresAt: form.expiresAt ? new Date(form.expiresAt + "T23:59:59").toISOString() : null } }),
  );
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  return html`<form class="stack" data-testid="tier-override-form" onSubmit=${async (e) => { e.preventDefault(); if (await run(false)) onDone(); }}>
    <h3>${t("tier_override")}</h3>
    <div class="grid">
      <${Field} label=${t("level")}>
        <select ...${bind("level")} onChange=${(e) => setForm({ ...form, level: e.target.value })}>
          ${levels.map((l) => html`<option value=${l.name}>${l.name}</option>`)}
        </select>
      </${Field}>
      <${Field} label=${t("reason")}><input required ...${bind("reason")} /></${Field}>
      <${Field} label=${t("override_until")}><input type="date" required ...${bind("expiresAt")} /></${Field}>
    </div>
    <${Errors} errors=${state.errors} />
    <div class="row">
      <button class="secondary" disabled=${state.busy}>${t("override_set")}</button>
      ${overridden && html`<button type="button" class="secondary danger" disabled=${state.busy}
        onClick=${async () => (await run(true)) && onDone()}>${t("override_lift")}</button>`}
    </div>
  </form>`;
}

// The member's offers; support activates one the member asked for at the till or by phone.
function MemberOffers({ id }) {
  const state = useQuery(OFFERS, { id });
  const [activated, activate] = useAction((offer) => mutate(OFFER_ACTIVATE, { input: { offerId: offer.id, memberId: id } }));
  return html`<${Section} title=${t("offers")}><${Loaded} state=${state}>${(data) => html`
    <${Table} caption=${t("offers")} rows=${nodes(data.member.offers)} testid="member-offer-row" columns=${[
      [t("offer"), (o) => o.offer.title],
      [t("state"), (o) => html`<${Status} value=${o.state} />`],
      [t("activated"), (o) => (o.activatedAt ? dateTime(o.activatedAt) : o.state === "AVAILABLE" && o.offer.activation === "CLIP" && html`<button
        class="secondary" disabled=${activated.busy} aria-label=${t("activate_for_member", { name: o.offer.title })}
        onClick=${async () => (await activate(o.offer)) && state.reload()}>${t("activate")}</button>`)],
      [t("redeemed"), (o) => num(o.redeemed)],
      [t("ends"), (o) => date(o.endsAt)],
    ]} />
    <${Errors} errors=${activated.errors} />`}</${Loaded}></${Section}>`;
}

function MemberVouchers({ id }) {
  const state = useQuery(VOUCHERS, { id });
  return html`<${Section} title=${t("vouchers")}><${Loaded} state=${state}>${(data) => html`
    <${Table} caption=${t("vouchers")} rows=${data.member.vouchers} columns=${[
      [t("code"), (v) => "…" + v.lastFour],
      [t("discount"), (v) => voucherValue(v)],
      [t("status"), (v) => html`<${Status} value=${v.status} />`],
      [t("uses"), (v) => `${v.uses}${v.maxUses ? " / " + v.maxUses : ""}`],
      [t("expires"), (v) => date(v.expiresAt)],
    ]} />`}</${Loaded}></${Section}>`;
}

export function voucherValue(v) {
  if (v.percent !== null && v.percent !== undefined) return `${v.percent} %`;
  if (v.amount !== null && v.amount !== undefined && v.currency) return minor(v.amount, v.currency);
  return t("discount_" + v.discount);
}

function MemberGiftCards({ id }) {
  const state = useQuery(GIFT_CARDS, { id });
  return html`<${Section} title=${t("gift_cards")}><${Loaded} state=${state}>${(data) => html`
    <${Table} caption=${t("gift_cards")} rows=${data.member.giftCards} columns=${[
      [t("card"), (c) => "…" + c.lastFour],
      [t("balance"), (c) => minor(c.balance, c.currency)],
      [t("status"), (c) => html`<${Status} value=${c.status} />`],
      [t("expires"), (c) => date(c.expiresAt)],
    ]} />`}</${Loaded}></${Section}>`;
}

function MemberGames({ id }) {
  const state = useQuery(GAMES, { id });
  return html`<${Section} title=${t("games")}><${Loaded} state=${state}>${(data) => html`
    <h3>${t("badges")}</h3>
    <${Table} caption=${t("badges")} rows=${data.member.badges} columns=${[
      [t("name"), (b) => b.badge.name],
      [t("progress"), (b) => `${num(b.progress)} / ${num(b.target)}`],
      [t("earned"), (b) => num(b.earned)],
    ]} />
    <h3>${t("streaks")}</h3>
    <${Table} caption=${t("streaks")} rows=${data.member.streaks} columns=${[
      [t("name"), (s) => s.streak.name],
      [t("length"), (s) => num(s.length)],
      [t("best"), (s) => num(s.best)],
    ]} />`}</${Loaded}></${Section}>`;
}

function MemberPayments({ id }) {
  const state = useQuery(PAYMENTS, { id });
  return html`<${Section} title=${t("payments")}><${Loaded} state=${state}>${(data) => html`
    <${Table} caption=${t("payments")} rows=${data.member.payments} columns=${[
      [t("when"), (p) => dateTime(p.createdAt)],
      [t("order"), (p) => p.orderReference],
      [t("amount"), (p) => minor(p.amount, p.currency)],
      [t("status"), (p) => html`<${Status} value=${p.status} />`],
    ]} />`}</${Loaded}></${Section}>`;
}

function MemberConsents({ id }) {
  const state = useQuery(CONSENTS, { id });
  return html`<${Section} title=${t("consents")}><${Loaded} state=${state}>${(data) => html`
    <${Table} caption=${t("consents")} rows=${data.consents} columns=${[
      [t("purpose"), (c) => t("purpose_" + c.purpose)],
      [t("status"), (c) => (c.granted ? t("granted") : t("withdrawn"))],
      [t("channel"), (c) => c.channel],
      [t("when"), (c) => dateTime(c.recordedAt)],
    ]} />`}</${Loaded}></${Section}>`;
}
