// Tiers: the ladder (its levels, thresholds and benefits, what it measures over which
// window, how members move down) and the paid membership plans.
import { useQuery } from "../common/api.js";
import { num, t } from "../common/i18n.js";
import { Loaded, Section, Table, html } from "../common/ui.js";
import { minor } from "./parts.js";

const LADDER = `query ConsoleTierLadder {
  tierLadder { version metric expression window months downgrade graceDays refundsDowngrade
    levels { name threshold benefits invitationOnly } }
  membershipPlans { id code name price currency period trialDays level benefits }
}`;

export function Tiers() {
  const state = useQuery(LADDER);
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Section} title=${t("tier_ladder")}>
      ${data.tierLadder ? html`
        <dl class="facts">
          <dt>${t("version")}</dt><dd>${data.tierLadder.version}</dd>
          <dt>${t("tier_metric")}</dt><dd>${t("metric_" + data.tierLadder.metric)}${data.tierLadder.expression && html` <code>${data.tierLadder.expression}</code>`}</dd>
          <dt>${t("tier_window")}</dt><dd>${t("window_" + data.tierLadder.window, { n: data.tierLadder.months })}</dd>
          <dt>${t("tier_downgrade")}</dt><dd>${t("downgrade_" + data.tierLadder.downgrade, { n: data.tierLadder.graceDays })}</dd>
        </dl>
        <${Table} caption=${t("tier_levels")} rows=${data.tierLadder.levels} testid="tier-level-row" columns=${[
          [t("level"), (l) => l.name],
          [t("threshold"), (l) => (l.invitationOnly ? t("invitation_only") : l.threshold === null ? "" : num(l.threshold))],
          [t("benefits"), (l) => l.benefits.join(", ")],
        ]} />` : html`<p class="muted">${t("no_ladder")}</p>`}
    </${Section}>
    <${Section} title=${t("membership_plans")}>
      <${Table} caption=${t("membership_plans")} rows=${data.membershipPlans} testid="plan-row" columns=${[
        [t("name"), (p) => html`${p.name} <code>${p.code}</code>`],
        [t("price"), (p) => `${minor(p.price, p.currency)} / ${t("per_" + p.period)}`],
        [t("trial_days"), (p) => num(p.trialDays)],
        [t("level"), (p) => p.level ?? ""],
        [t("benefits"), (p) => p.benefits.join(", ")],
      ]} />
    </${Section}>`}
  </${Loaded}>`;
}
