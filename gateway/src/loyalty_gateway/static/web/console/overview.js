// The programme at a glance: members (all, active, blocked), campaigns and the ones failing,
// the enabled modules, and (with partner offers) activations and redemptions by day.
//
// The schema has no programme overview yet (points issued, redeemed, expired, the
// outstanding liability, by day): when it has, its document goes here, next to the others,
// and its series into LineChart like the offers' below. Counts come from the connections,
// a page of at most 100 at a time: beyond that the figure says "100+".
import { useQuery } from "../common/api.js";
import { num, t } from "../common/i18n.js";
import { Loaded, Section, html } from "../common/ui.js";
import { LineChart } from "./chart.js";
import { Status, daysAgo, isoDate, nodes } from "./parts.js";

const PAGE = 100;
const COUNTS = `query ConsoleOverview($first: Int) {
  all: members(first: $first) { edges { node { id } } pageInfo { hasNextPage } }
  active: members(first: $first, status: ACTIVE) { edges { node { id } } pageInfo { hasNextPage } }
  blocked: members(first: $first, status: BLOCKED) { edges { node { id } } pageInfo { hasNextPage } }
  campaigns(first: $first) { edges { node { id name status health { failures pausedReason } } } pageInfo { hasNextPage } }
}`;
const OFFERS = `query ConsoleOverviewOffers($since: Date!, $until: Date!) {
  offerPerformance(since: $since, until: $until) { rows { day activations redemptions pointsAwarded } }
}`;

function count(connection) {
  return connection.pageInfo.hasNextPage ? `${num(PAGE)}+` : num(connection.edges.length);
}

export function Overview({ tenant, modules }) {
  const state = useQuery(COUNTS, { first: PAGE });
  const since = isoDate(daysAgo(30));
  const until = isoDate(new Date());
  const offers = useQuery(OFFERS, { since, until }, { skip: !modules.includes("partner_offers") });
  return html`<${Loaded} state=${state}>${(data) => {
    const campaigns = nodes(data.campaigns);
    const failing = campaigns.filter((c) => c.health.failures > 0 || c.status === "PAUSED");
    return html`
      <div class="grid kpis">
        <${Kpi} label=${t("kpi_members")} value=${count(data.all)} testid="kpi-members" />
        <${Kpi} label=${t("kpi_active")} value=${count(data.active)} testid="kpi-active" />
        <${Kpi} label=${t("kpi_blocked")} value=${count(data.blocked)} testid="kpi-blocked" />
        <${Kpi} label=${t("kpi_campaigns_active")} value=${num(campaigns.filter((c) => c.status === "ACTIVE").length)} testid="kpi-campaigns" />
      </div>
      <${Section} title=${t("campaigns_attention")}>
        ${failing.length === 0 ? html`<p class="ok">${t("campaigns_all_healthy")}</p>` : html`<ul class="list">
          ${failing.map((c) => html`<li data-testid="failing-campaign"><a href=${"#/campaigns/" + c.id}>${c.name}</a> <${Status} value=${c.status} />
            <span class="error">${t("failures_count", { n: num(c.health.failures), row: "" })}</span>
            ${c.health.pausedReason && html`<br /><small>${c.health.pausedReason}</small>`}</li>`)}
        </ul>`}
      </${Section}>
      ${offers.data && html`<${OfferChart} rows=${offers.data.offerPerformance.rows} since=${since} until=${until} />`}
      <${Section} title=${t("programme")}>
        <dl class="facts">
          <dt>${t("tenant")}</dt><dd>${tenant.name} (<code>${tenant.slug}</code>)</dd>
          <dt>${t("currency")}</dt><dd>${tenant.defaultCurrency}</dd>
          <dt>${t("timezone")}</dt><dd>${tenant.timezone}</dd>
          <dt>${t("nav_modules")}</dt><dd>${modules.length ? modules.join(", ") : t("none")}</dd>
        </dl>
      </${Section}>`;
  }}</${Loaded}>`;
}

function Kpi({ label, value, testid }) {
  return html`<section class="card kpi" data-testid=${testid}><h2>${label}</h2><p class="big">${value}</p></section>`;
}

// Offers' activations and redemptions summed per day over every offer, each day of the
// period shown (a day without any is 0).
function OfferChart({ rows, since, until }) {
  const days = [];
  for (let d = new Date(since + "T12:00:00"); isoDate(d) <= until; d.setDate(d.getDate() + 1)) days.push(isoDate(d));
  const sum = (field) => days.map((day) => rows.filter((r) => r.day === day).reduce((total, r) => total + r[field], 0));
  return html`<${Section} title=${t("offers_by_day")}>
    <${LineChart} title=${t("offers_by_day_caption")} x=${days}
      series=${[[t("activations"), sum("activations")], [t("redemptions"), sum("redemptions")]]} />
  </${Section}>`;
}
