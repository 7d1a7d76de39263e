// Tiers: the ladder (its levels, thresholds and benefits, what it measures over which
// window, how members move down), changed after a simulation that says how many members
// would move up or down; and the paid membership plans, with a new one.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { minor, toMinor } from "./parts.js";

const LADDER = `query ConsoleTierLadder {
  tierLadder { version metric expression visitTypes window months downgrade graceDays refundsDowngrade
    levels { name threshold benefits invitationOnly } }
  membershipPlans { id code name price currency period trialDays level benefits }
}`;
const LADDER_SIMULATE = `mutation ConsoleTierLadderSimulate($input: TierLadderInput!) {
  tierLadderSimulate(input: $input) { simulation { up down skipped } errors { code field message } }
}`;
const LADDER_SET = `mutation ConsoleTierLadderSet($input: TierLadderInput!) {
  tierLadderSet(input: $input) { ladder { version } errors { code field message } }
}`;
const PLAN_CREATE = `mutation ConsoleMembershipPlanCreate($input: MembershipPlanCreateInput!) {
  membershipPlanCreate(input: $input) { plan { id } errors { code field message } }
}`;
const METRICS = ["STATUS_POINTS", "SPEND", "PURCHASES", "VISITS", "EXPRESSION"];
const WINDOWS = ["ROLLING", "CALENDAR_YEAR", "ANNIVERSARY_YEAR"];
const DOWNGRADES = ["QUALIFYING", "ONE_LEVEL", "GRACE"];

export function Tiers({ tenant }) {
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
    <${LadderEditor} ladder=${data.tierLadder} onSaved=${state.reload} />
    <${Section} title=${t("membership_plans")}>
      <${Table} caption=${t("membership_plans")} rows=${data.membershipPlans} testid="plan-row" columns=${[
        [t("name"), (p) => html`${p.name} <code>${p.code}</code>`],
        [t("price"), (p) => `${minor(p.price, p.currency)} / ${t("per_" + p.period)}`],
        [t("trial_days"), (p) => num(p.trialDays)],
        [t("level"), (p) => p.level ?? ""],
        [t("benefits"), (p) => p.benefits.join(", ")],
      ]} />
      <${CreatePlan} levels=${data.tierLadder?.levels ?? []} currency=${tenant.defaultCurrency} onCreated=${state.reload} />
    </${Section}>`}
  </${Loaded}>`;
}

function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function LadderEditor({ ladder, onSaved }) {
  const [form, setForm] = useState(() => ({
    metric: ladder?.metric ?? "STATUS_POINTS", expression: ladder?.expression ?? "", window: ladder?.window ?? "CALENDAR_YEAR",
    months: String(ladder?.months ?? 12), downgrade: ladder?.downgrade ?? "QUALIFYING", graceDays: String(ladder?.graceDays ?? 0),
    refundsDowngrade: ladder?.refundsDowngrade ?? false, visitTypes: ladder?.visitTypes ?? ["visit"],
    levels: (ladder?.levels ?? [{ name: "bronze", threshold: 0, benefits: [], invitationOnly: false }]).map((l) => ({
      name: l.name, threshold: l.threshold === null ? "" : String(l.threshold), benefits: l.benefits.join(", "), invitationOnly: l.invitationOnly,
    })),
  }));
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const setLevel = (i, patch) => setForm({ ...form, levels: form.levels.map((l, j) => (i === j ? { ...l, ...patch } : l)) });
  const input = () => ({
    metric: form.metric, expression: form.metric === "EXPRESSION" ? form.expression : null, visitTypes: form.visitTypes,
    window: form.window, months: Number(form.months), downgrade: form.downgrade, graceDays: Number(form.graceDays || 0),
    refundsDowngrade: form.refundsDowngrade,
    levels: form.levels.map((l) => ({ name: l.name, threshold: l.invitationOnly || l.threshold === "" ? null : Number(l.threshold), benefits: list(l.benefits), invitationOnly: l.invitationOnly })),
  });
  const [simulated, simulate] = useAction(() => mutate(LADDER_SIMULATE, { input: input() }));
  const [saved, save] = useAction(() => mutate(LADDER_SET, { input: input() }));
  const sim = simulated.done?.simulation;
  return html`<${Section} title=${t("ladder_change")}>
    <form class="stack" data-testid="ladder-form" onSubmit=${async (e) => { e.preventDefault(); if (await save()) onSaved(); }}>
      <fieldset class="stack"><legend>${t("tier_levels")}</legend>
        ${form.levels.map((level, i) => html`<div class="row" data-testid="ladder-level">
          <${Field} label=${t("level_n", { n: i + 1 })}><input required value=${level.name} onInput=${(e) => setLevel(i, { name: e.target.value })} /></${Field}>
          <${Field} label=${t("threshold_n", { n: i + 1 })}><input type="number" min="0" disabled=${level.invitationOnly} value=${level.threshold}
            onInput=${(e) => setLevel(i, { threshold: e.target.value })} /></${Field}>
          <${Field} label=${t("benefits_n", { n: i + 1 })} hint=${t("comma_separated")}><input value=${level.benefits} onInput=${(e) => setLevel(i, { benefits: e.target.value })} /></${Field}>
          <label class="row"><input type="checkbox" checked=${level.invitationOnly} onChange=${(e) => setLevel(i, { invitationOnly: e.target.checked })} />${t("invitation_only")}</label>
          <button type="button" class="secondary" aria-label=${t("level_remove", { n: i + 1 })}
            onClick=${() => setForm({ ...form, levels: form.levels.filter((_, j) => j !== i) })}>×</button>
        </div>`)}
        <div><button type="button" class="secondary" onClick=${() => setForm({ ...form, levels: [...form.levels, { name: "", threshold: "", benefits: "", invitationOnly: false }] })}>${t("level_add")}</button></div>
      </fieldset>
      <div class="grid">
        <${Field} label=${t("tier_metric")}>
          <select name="metric" value=${form.metric} onChange=${set("metric")}>${METRICS.map((m) => html`<option value=${m}>${t("metric_" + m)}</option>`)}</select>
        </${Field}>
        ${form.metric === "EXPRESSION" && html`<${Field} label=${t("expression")}><input class="mono" name="expression" value=${form.expression} onInput=${set("expression")} /></${Field}>`}
        <${Field} label=${t("tier_window")}>
          <select name="window" value=${form.window} onChange=${set("window")}>${WINDOWS.map((w) => html`<option value=${w}>${t("window_" + w, { n: form.months })}</option>`)}</select>
        </${Field}>
        <${Field} label=${t("months")}><input type="number" min="1" name="months" value=${form.months} onInput=${set("months")} /></${Field}>
        <${Field} label=${t("tier_downgrade")}>
          <select name="downgrade" value=${form.downgrade} onChange=${set("downgrade")}>${DOWNGRADES.map((d) => html`<option value=${d}>${t("downgrade_" + d, { n: form.graceDays })}</option>`)}</select>
        </${Field}>
        <${Field} label=${t("grace_days")}><input type="number" min="0" name="graceDays" value=${form.graceDays} onInput=${set("graceDays")} /></${Field}>
      </div>
      <label class="row"><input type="checkbox" name="refundsDowngrade" checked=${form.refundsDowngrade} onChange=${set("refundsDowngrade")} />${t("refunds_downgrade")}</label>
      <${Errors} errors=${simulated.errors ?? saved.errors} />
      ${sim && html`<p role="status" data-testid="ladder-simulation">${t("ladder_simulated", { up: num(sim.up), down: num(sim.down), skipped: num(sim.skipped) })}</p>`}
      ${saved.done && html`<p class="ok" role="status">${t("saved")}</p>`}
      <div class="row">
        <button type="button" class="secondary" disabled=${simulated.busy} onClick=${simulate}>${t("simulate")}</button>
        <button class="primary" disabled=${saved.busy}>${t("save")}</button>
      </div>
    </form>
  </${Section}>`;
}

function CreatePlan({ levels, currency, onCreated }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ code: "", name: "", price: "", currency, period: "MONTH", trialDays: "0", level: "", benefits: "" });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const choose = (name) => ({ ...bind(name), onChange: (e) => setForm({ ...form, [name]: e.target.value }) });
  const [state, create] = useAction(() => mutate(PLAN_CREATE, { input: {
    code: form.code, name: form.name, price: toMinor(form.price, form.currency), currency: form.currency, period: form.period,
    trialDays: Number(form.trialDays || 0), level: form.level || null, benefits: list(form.benefits),
  } }));
  if (!open) return html`<div><button class="secondary" aria-expanded="false" onClick=${() => setOpen(true)}>${t("plan_new")}</button></div>`;
  return html`<form class="stack" data-testid="plan-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) { setOpen(false); onCreated(); } }}>
    <h3>${t("plan_new")}</h3>
    <div class="grid">
      <${Field} label=${t("code")}><input required ...${bind("code")} /></${Field}>
      <${Field} label=${t("name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("amount_major", { currency: form.currency })}><input type="number" min="0" step="0.01" required ...${bind("price")} /></${Field}>
      <${Field} label=${t("period")}>
        <select ...${choose("period")}><option value="MONTH">${t("per_MONTH")}</option><option value="YEAR">${t("per_YEAR")}</option></select>
      </${Field}>
      <${Field} label=${t("trial_days")}><input type="number" min="0" ...${bind("trialDays")} /></${Field}>
      <${Field} label=${t("level")}>
        <select ...${choose("level")}><option value="">—</option>${levels.map((l) => html`<option value=${l.name}>${l.name}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("benefits")} hint=${t("comma_separated")}><input ...${bind("benefits")} /></${Field}>
    </div>
    <${Errors} errors=${state.errors} />
    <div class="row">
      <button class="primary" disabled=${state.busy}>${t("create")}</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>${t("cancel")}</button>
    </div>
  </form>`;
}
