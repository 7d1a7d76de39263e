// The programme at a glance (the console's home): members (all, active lately, by status),
// points issued, redeemed and expired over a period with the outstanding liability, in
// series per day, week or month (uPlot); campaigns that need attention; and, with partner
// offers, the offers' activity by day.
import { useState } from "preact/hooks";
import { useQuery } from "../common/api.js";
import { date, num, t } from "../common/i18n.js";
import { Field, Loaded, Section, Table, html } from "../common/ui.js";
import { LineChart } from "./chart.js";
import { Status, daysAgo, isoDate, nodes } from "./parts.js";

const OVERVIEW = `query ConsoleOverview($from: Date, $to: Date, $interval: OverviewInterval!) {
  programmeOverview(from: $from, to: $to, interval: $interval) {
    from to interval members activeMembers activeDays
    membersByStatus { status count }
    membersJoined { start count }
    assets { asset { code name kind scale spendable } outstanding
      totals { issued redeemed expired }
      series { start issued redeemed expired } }
  }
}`;
const ATTENTION = `query ConsoleAttention {
  campaigns(first: 100) { edges { node { id name status health { failures pausedReason } } } }
}`;
const OFFERS = `query ConsoleOverviewOffers($since: Date!, $until: Date!) {
  offerPerformance(since: $since, until: $until) { rows { day activations redemptions pointsAwarded } }
}`;
const INTERVALS = ["DAY", "WEEK", "MONTH"];

export function Overview({ tenant, modules }) {
  const [period, setPeriod] = useState({ from: isoDate(daysAgo(29)), to: isoDate(new Date()), interval: "DAY" });
  const state = useQuery(OVERVIEW, period);
  const set = (name) => (e) => setPeriod({ ...period, [name]: e.target.value });
  return html`
    <${Section} title=${t("overview")}>
      <form class="row" onSubmit=${(e) => e.preventDefault()} aria-label=${t("overview_period")}>
        <${Field} label=${t("since")}><input type="date" name="from" value=${period.from} max=${period.to} onChange=${set("from")} /></${Field}>
        <${Field} label=${t("until")}><input type="date" name="to" value=${period.to} min=${period.from} onChange=${set("to")} /></${Field}>
        <${Field} label=${t("interval")}>
          <select name="interval" value=${period.interval} onChange=${set("interval")}>
            ${INTERVALS.map((i) => html`<option value=${i}>${t("interval_" + i)}</option>`)}
          </select>
        </${Field}>
      </form>
    </${Section}>
    <${Loaded} state=${state}>${(data) => html`<${Programme} overview=${data.programmeOverview} tenant=${tenant} />`}</${Loaded}>
    <${Attention} />
    ${modules.includes("partner_offers") && html`<${OfferChart} />`}`;
}

function Programme({ overview }) {
  const byStatus = Object.fromEntries(overview.membersByStatus.map((s) => [s.status, s.count]));
  const spendable = overview.assets.filter((a) => a.asset.spendable);
  const points = spendable.find((a) => a.asset.code === "points") ?? spendable[0];
  const days = (series) => series.map((p) => p.start);
  return html`
    <div class="grid kpis">
      <${Kpi} label=${t("kpi_members")} value=${num(overview.members)} testid="kpi-members" />
      <${Kpi} label=${t("kpi_active", { n: overview.activeDays })} value=${num(overview.activeMembers)} testid="kpi-active" />
      <${Kpi} label=${t("kpi_blocked")} value=${num(byStatus.BLOCKED ?? 0)} testid="kpi-blocked" />
      ${points && html`<${Kpi} label=${t("kpi_outstanding", { asset: points.asset.name })} value=${scaled(points.outstanding ?? 0, points.asset)} testid="kpi-outstanding" />`}
    </div>
    ${points && html`<${Section} title=${t("points_over_time", { asset: points.asset.name })}>
      <dl class="facts" data-testid="points-totals">
        <dt>${t("issued")}</dt><dd>${scaled(points.totals.issued, points.asset)}</dd>
        <dt>${t("redeemed")}</dt><dd>${scaled(points.totals.redeemed, points.asset)}</dd>
        <dt>${t("expired")}</dt><dd>${scaled(points.totals.expired, points.asset)}</dd>
      </dl>
      <${LineChart} title=${t("points_chart", { asset: points.asset.name, from: date(overview.from), to: date(overview.to) })} x=${days(points.series)}
        series=${[[t("issued"), points.series.map((p) => p.issued)], [t("redeemed"), points.series.map((p) => p.redeemed)], [t("expired"), points.series.map((p) => p.expired)]]} />
    </${Section}>`}
    <${Section} title=${t("members_joined")}>
      <${LineChart} title=${t("members_joined_chart", { from: date(overview.from), to: date(overview.to) })} x=${days(overview.membersJoined)}
        series=${[[t("joined"), overview.membersJoined.map((p) => p.count)]]} />
    </${Section}>
    <${Section} title=${t("liability")}>
      <${Table} caption=${t("liability")} rows=${overview.assets} testid="asset-row" columns=${[
        [t("asset"), (a) => a.asset.name],
        [t("issued"), (a) => scaled(a.totals.issued, a.asset)],
        [t("redeemed"), (a) => scaled(a.totals.redeemed, a.asset)],
        [t("expired"), (a) => scaled(a.totals.expired, a.asset)],
        [t("outstanding"), (a) => (a.outstanding === null ? "—" : scaled(a.outstanding, a.asset))],
      ]} />
    </${Section}>`;
}

function scaled(value, asset) {
  return num(value / 10 ** asset.scale);
}

function Kpi({ label, value, testid }) {
  return html`<section class="card kpi" data-testid=${testid}><h2>${label}</h2><p class="big">${value}</p></section>`;
}

function Attention() {
  const state = useQuery(ATTENTION);
  return html`<${Section} title=${t("campaigns_attention")}>
    <${Loaded} state=${state}>${(data) => {
      const failing = nodes(data.campaigns).filter((c) => c.health.failures > 0 || c.status === "PAUSED");
      if (!failing.length) return html`<p class="ok">${t("campaigns_all_healthy")}</p>`;
      return html`<ul class="list">
        ${failing.map((c) => html`<li data-testid="failing-campaign"><a href=${"#/campaigns/" + c.id}>${c.name}</a> <${Status} value=${c.status} />
          <span class="error">${t("failures_count", { n: num(c.health.failures) })}</span>
          ${c.health.pausedReason && html`<br /><small>${c.health.pausedReason}</small>`}</li>`)}
      </ul>`;
    }}</${Loaded}>
  </${Section}>`;
}

// Offers' activations and redemptions summed per day over every offer, each day of the
// last 30 shown (a day without any is 0).
function OfferChart() {
  const since = isoDate(daysAgo(29));
  const until = isoDate(new Date());
  const state = useQuery(OFFERS, { since, until });
  const days = [];
  for (let d = new Date(since + "T12:00:00"); isoDate(d) <= until; d.setDate(d.getDate() + 1)) days.push(isoDate(d));
  return html`<${Section} title=${t("offers_by_day")}>
    <${Loaded} state=${state}>${(data) => {
      const rows = data.offerPerformance.rows;
      const sum = (field) => days.map((day) => rows.filter((r) => r.day === day).reduce((total, r) => total + r[field], 0));
      return html`<${LineChart} title=${t("offers_by_day_caption")} x=${days}
        series=${[[t("activations"), sum("activations")], [t("redemptions"), sum("redemptions")]]} />`;
    }}</${Loaded}>
  </${Section}>`;
}
