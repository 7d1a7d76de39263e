// Campaigns: the list with each campaign's health (failures, the last error, why it paused);
// a campaign's editor (trigger, CEL condition, effects, window, budget, limits, segments)
// that shows the API's validation errors by field; a simulation against the stored events
// of a period, to see the cost and reach before activating; activate and pause. The
// condition is checked as it is typed (conditions.js).
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, dateTime, num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { More, Status, daysAgo, fromLocalInput, nodes, toLocalInput, usePageSize } from "./parts.js";
import { LineChart } from "./chart.js";
import { ConditionEditor } from "./conditions.js";

const CAMPAIGNS = `query ConsoleCampaigns($first: Int) {
  campaigns(first: $first) {
    edges { node { id name status version trigger condition budgetSpent updatedAt
      health { failures consecutiveFailures lastError lastFailureAt pausedReason } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CAMPAIGN = `query ConsoleCampaign($id: ID!) {
  campaign(id: $id) { id name status version trigger condition budgetSpent definition createdAt updatedAt
    health { failures consecutiveFailures lastError lastErrorClass lastFailureAt lastFailureVersion pausedReason } }
}`;
const CHOICES = `query ConsoleCampaignChoices { eventTypes { name } segments { name } tenant { assets { code name } } }`;
const CREATE = `mutation ConsoleCampaignCreate($input: CampaignCreateInput!) {
  campaignCreate(input: $input) { campaign { id } errors { code field message line column } }
}`;
const UPDATE = `mutation ConsoleCampaignUpdate($input: CampaignUpdateInput!) {
  campaignUpdate(input: $input) { campaign { id version } errors { code field message line column } }
}`;
const ACTIVATE = `mutation ConsoleCampaignActivate($id: ID!) {
  campaignActivate(id: $id) { campaign { id status } errors { code field message } }
}`;
const DEACTIVATE = `mutation ConsoleCampaignDeactivate($id: ID!) {
  campaignDeactivate(id: $id) { campaign { id status } errors { code field message } }
}`;
const SIMULATE = `mutation ConsoleCampaignSimulate($input: CampaignSimulateInput!) {
  campaignSimulate(input: $input) {
    simulation { points awards membersReached failures sampleErrors budgetByDay { day points } topMembers { memberId points } }
    errors { code field message }
  }
}`;

const SCHEDULES = ["schedule.birthday", "schedule.anniversary", "schedule.inactivity", "schedule.date"];
const EFFECTS = ["points", "pointsPerUnit", "multiplier", "assetAward"];
const PERIODS = ["DAY", "WEEK", "MONTH", "CAMPAIGN"];

export function Campaigns({ route }) {
  const rest = route.slice("/campaigns".length).replace(/^\//, "");
  if (rest === "new") return html`<${Editor} campaign=${null} />`;
  if (rest) return html`<${CampaignView} id=${decodeURIComponent(rest)} />`;
  return html`<${CampaignList} />`;
}

function CampaignList() {
  const [size, more] = usePageSize();
  const state = useQuery(CAMPAIGNS, { first: size });
  return html`<${Section} title=${t("campaigns")} actions=${html`<a class="button primary" href="#/campaigns/new">${t("campaign_new")}</a>`}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("campaigns")} rows=${nodes(data.campaigns)} testid="campaign-row" columns=${[
        [t("name"), (c) => html`<a href=${"#/campaigns/" + c.id}>${c.name}</a>`],
        [t("status"), (c) => html`<${Status} value=${c.status} />`],
        [t("trigger"), (c) => html`<code>${c.trigger}</code>`],
        [t("budget_spent"), (c) => num(c.budgetSpent)],
        [t("health"), (c) => html`<${Health} health=${c.health} />`],
        [t("updated"), (c) => date(c.updatedAt)],
      ]} />
      <${More} connection=${data.campaigns} onMore=${more} busy=${state.loading} />`}
    </${Loaded}>
  </${Section}>`;
}

function Health({ health, full }) {
  if (!health.failures) return html`<span class="ok">${t("healthy")}</span>`;
  return html`<span class="error" data-testid="campaign-health">
    ${t("failures_in_row", { n: num(health.failures), row: num(health.consecutiveFailures) })}
    ${health.pausedReason && html`<br />${health.pausedReason}`}
    ${full && health.lastError && html`<br /><code>${health.lastError}</code> (${dateTime(health.lastFailureAt)})`}
  </span>`;
}

function CampaignView({ id }) {
  const state = useQuery(CAMPAIGN, { id });
  const [activated, activate] = useAction(() => mutate(ACTIVATE, { id }));
  const [paused, pause] = useAction(() => mutate(DEACTIVATE, { id }));
  return html`<p><a href="#/campaigns">← ${t("back_to_campaigns")}</a></p>
    <${Loaded} state=${state}>${(data) => {
      const c = data.campaign;
      if (!c) return html`<p role="alert">${t("not_found")}</p>`;
      return html`
        <${Section} title=${c.name} actions=${html`<${Status} value=${c.status} />`}>
          <dl class="facts">
            <dt>${t("version")}</dt><dd>${c.version}</dd>
            <dt>${t("budget_spent")}</dt><dd>${num(c.budgetSpent)}</dd>
            <dt>${t("health")}</dt><dd><${Health} health=${c.health} full=${true} /></dd>
          </dl>
          <div class="row">
            ${c.status !== "ACTIVE" && html`<button class="primary" disabled=${activated.busy} data-testid="campaign-activate"
              onClick=${async () => (await activate()) && state.reload()}>${t("activate")}</button>`}
            ${c.status === "ACTIVE" && html`<button class="secondary" disabled=${paused.busy} data-testid="campaign-pause"
              onClick=${async () => (await pause()) && state.reload()}>${t("pause")}</button>`}
          </div>
          <${Errors} errors=${activated.errors ?? paused.errors} />
        </${Section}>
        <${Editor} campaign=${c} onSaved=${state.reload} />`;
    }}</${Loaded}>`;
}

// The editor's form state from a stored definition (camelCase, its enums in lower case), or
// a new campaign's defaults.
function formOf(campaign) {
  const d = campaign?.definition ?? {};
  return {
    name: campaign?.name ?? "",
    trigger: d.trigger ?? "purchase",
    condition: d.condition ?? "",
    effects: (d.effects ?? [{ kind: "points", params: { points: 10 } }]).map((e) => ({ kind: e.kind, params: JSON.stringify(e.params ?? {}) })),
    startsAt: toLocalInput(d.window?.startsAt),
    endsAt: toLocalInput(d.window?.endsAt),
    daysOfWeek: d.window?.daysOfWeek ?? [],
    hoursFrom: String(d.window?.hoursFrom ?? 0),
    hoursTo: String(d.window?.hoursTo ?? 24),
    priority: String(d.priority ?? 0),
    stacking: String(d.stacking ?? "STACK").toUpperCase(),
    budget: optional(d.budget),
    limits: (d.limits ?? []).map((l) => ({ period: String(l.period).toUpperCase(), maxAwards: optional(l.maxAwards), maxPoints: optional(l.maxPoints) })),
    segments: d.segments ?? [],
    pendingDays: optional(d.pendingDays),
    inactiveDays: optional(d.inactiveDays),
    onDate: d.onDate ?? "",
    pauseAfterFailures: optional(d.pauseAfterFailures),
  };
}

function optional(value) {
  return value === null || value === undefined ? "" : String(value);
}

function intOrNull(text) {
  return text === "" || text === null || text === undefined ? null : Number(text);
}

// The form as the API's CampaignDefinitionInput; params that are not JSON are reported by
// effect, before anything is sent.
function definitionOf(form) {
  const problems = [];
  const effects = form.effects.map((e, i) => {
    try {
      return { kind: e.kind, params: e.params.trim() ? JSON.parse(e.params) : {} };
    } catch {
      problems.push({ code: "INVALID_INPUT", field: `effects.${i}.params`, message: t("params_not_json") });
      return { kind: e.kind, params: {} };
    }
  });
  const windowed = form.startsAt || form.endsAt || form.daysOfWeek.length || form.hoursFrom !== "0" || form.hoursTo !== "24";
  const definition = {
    trigger: form.trigger,
    condition: form.condition,
    effects,
    window: windowed
      ? {
          startsAt: fromLocalInput(form.startsAt),
          endsAt: fromLocalInput(form.endsAt),
          daysOfWeek: form.daysOfWeek.length ? form.daysOfWeek : null,
          hoursFrom: Number(form.hoursFrom),
          hoursTo: Number(form.hoursTo),
        }
      : null,
    priority: Number(form.priority || 0),
    stacking: form.stacking,
    budget: intOrNull(form.budget),
    limits: form.limits.map((l) => ({ period: l.period, maxAwards: intOrNull(l.maxAwards), maxPoints: intOrNull(l.maxPoints) })),
    segments: form.segments,
    pendingDays: intOrNull(form.pendingDays),
    inactiveDays: form.trigger === "schedule.inactivity" ? intOrNull(form.inactiveDays) : null,
    onDate: form.trigger === "schedule.date" ? form.onDate || null : null,
    pauseAfterFailures: intOrNull(form.pauseAfterFailures),
  };
  return { definition, problems };
}

// The errors of one field (and its sub-fields: `effects.0.params.points` belongs to
// `effects.0`), for the field to show next to itself.
function errorsAt(errors, field) {
  return (errors ?? []).filter((e) => e.field === field || e.field?.startsWith(field + "."));
}

function fieldMessage(errors, field) {
  const found = errorsAt(errors, field);
  return found.length ? found.map((e) => e.message).join("; ") : null;
}

function Editor({ campaign, onSaved }) {
  const choices = useQuery(CHOICES);
  const [form, setForm] = useState(() => formOf(campaign));
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  const bind = (name) => ({ name, value: form[name], onInput: (e) => set(name, e.target.value) });
  const [state, save] = useAction(async () => {
    const { definition, problems } = definitionOf(form);
    if (problems.length) return { errors: problems };
    return campaign
      ? mutate(UPDATE, { input: { id: campaign.id, name: form.name, definition } })
      : mutate(CREATE, { input: { name: form.name, definition } });
  });
  const submit = async (e) => {
    e.preventDefault();
    const done = await save();
    if (done && !campaign) location.hash = "#/campaigns/" + done.campaign.id;
    else if (done) onSaved();
  };
  const errors = state.errors;
  const setEffect = (i, patch) => set("effects", form.effects.map((e, j) => (i === j ? { ...e, ...patch } : e)));
  const setLimit = (i, patch) => set("limits", form.limits.map((l, j) => (i === j ? { ...l, ...patch } : l)));
  const toggle = (list, value) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  const data = choices.data ?? { eventTypes: [], segments: [], tenant: { assets: [] } };
  const triggers = [...new Set([...data.eventTypes.map((e) => e.name), ...SCHEDULES, form.trigger])];
  return html`<${Section} title=${campaign ? t("campaign_edit") : t("campaign_new")}>
    <form class="stack" onSubmit=${submit} data-testid="campaign-form" novalidate>
      <${Field} label=${t("name")} error=${fieldMessage(errors, "name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("trigger")} error=${fieldMessage(errors, "definition.trigger") ?? fieldMessage(errors, "trigger")}>
        <select ...${bind("trigger")} onChange=${(e) => set("trigger", e.target.value)}>
          ${triggers.map((name) => html`<option value=${name}>${name}</option>`)}
        </select>
      </${Field}>
      ${form.trigger === "schedule.inactivity" && html`<${Field} label=${t("inactive_days")} error=${fieldMessage(errors, "inactiveDays")}>
        <input type="number" min="1" ...${bind("inactiveDays")} /></${Field}>`}
      ${form.trigger === "schedule.date" && html`<${Field} label=${t("on_date")} error=${fieldMessage(errors, "onDate")}>
        <input type="date" ...${bind("onDate")} /></${Field}>`}
      <${ConditionEditor} value=${form.condition} trigger=${form.trigger} onChange=${(value) => set("condition", value)}
        errors=${errorsAt(errors, "condition").concat(errorsAt(errors, "definition.condition"))}
        hint=${t("condition_hint", { trigger: form.trigger })} testid="campaign-condition" />
      <fieldset class="stack">
        <legend>${t("effects")}</legend>
        <p class="muted">${t("effects_hint")}</p>
        ${form.effects.map((effect, i) => html`<div class="effect row" data-testid="effect">
          <${Field} label=${t("effect_kind", { n: i + 1 })}>
            <input list="effect-kinds" value=${effect.kind} onInput=${(e) => setEffect(i, { kind: e.target.value })} />
          </${Field}>
          <${Field} label=${t("effect_params", { n: i + 1 })} error=${fieldMessage(errors, `effects.${i}`)}>
            <input class="mono" value=${effect.params} onInput=${(e) => setEffect(i, { params: e.target.value })} />
          </${Field}>
          <button type="button" class="secondary" aria-label=${t("effect_remove", { n: i + 1 })}
            onClick=${() => set("effects", form.effects.filter((_, j) => j !== i))}>×</button>
        </div>`)}
        <datalist id="effect-kinds">${EFFECTS.map((k) => html`<option value=${k} />`)}</datalist>
        <div><button type="button" class="secondary" onClick=${() => set("effects", [...form.effects, { kind: "points", params: '{"points": 10}' }])}>${t("effect_add")}</button></div>
      </fieldset>
      <fieldset class="stack">
        <legend>${t("window")}</legend>
        <div class="grid">
          <${Field} label=${t("starts_at")} error=${fieldMessage(errors, "window.startsAt")}><input type="datetime-local" ...${bind("startsAt")} /></${Field}>
          <${Field} label=${t("ends_at")} error=${fieldMessage(errors, "window.endsAt")}><input type="datetime-local" ...${bind("endsAt")} /></${Field}>
          <${Field} label=${t("hours_from")}><input type="number" min="0" max="24" ...${bind("hoursFrom")} /></${Field}>
          <${Field} label=${t("hours_to")}><input type="number" min="0" max="24" ...${bind("hoursTo")} /></${Field}>
        </div>
        <fieldset class="row days"><legend>${t("days_of_week")}</legend>
          ${[1, 2, 3, 4, 5, 6, 7].map((d) => html`<label class="row"><input type="checkbox" checked=${form.daysOfWeek.includes(d)}
            onChange=${() => set("daysOfWeek", toggle(form.daysOfWeek, d).sort())} />${t("day_" + d)}</label>`)}
        </fieldset>
        ${fieldMessage(errors, "window") && html`<small class="error" role="alert">${fieldMessage(errors, "window")}</small>`}
      </fieldset>
      <div class="grid">
        <${Field} label=${t("priority")} error=${fieldMessage(errors, "priority")}><input type="number" ...${bind("priority")} /></${Field}>
        <${Field} label=${t("stacking")}>
          <select ...${bind("stacking")} onChange=${(e) => set("stacking", e.target.value)}>
            <option value="STACK">${t("stacking_STACK")}</option><option value="EXCLUSIVE">${t("stacking_EXCLUSIVE")}</option>
          </select>
        </${Field}>
        <${Field} label=${t("budget")} hint=${t("budget_hint")} error=${fieldMessage(errors, "budget")}><input type="number" min="1" ...${bind("budget")} /></${Field}>
        <${Field} label=${t("pending_days")} error=${fieldMessage(errors, "pendingDays")}><input type="number" min="0" ...${bind("pendingDays")} /></${Field}>
        <${Field} label=${t("pause_after_failures")} error=${fieldMessage(errors, "pauseAfterFailures")}><input type="number" min="1" ...${bind("pauseAfterFailures")} /></${Field}>
      </div>
      <fieldset class="stack">
        <legend>${t("limits")}</legend>
        ${form.limits.map((limit, i) => html`<div class="row" data-testid="limit">
          <${Field} label=${t("limit_period", { n: i + 1 })}>
            <select value=${limit.period} onChange=${(e) => setLimit(i, { period: e.target.value })}>
              ${PERIODS.map((p) => html`<option value=${p}>${t("period_" + p)}</option>`)}
            </select>
          </${Field}>
          <${Field} label=${t("max_awards")}><input type="number" min="1" value=${limit.maxAwards} onInput=${(e) => setLimit(i, { maxAwards: e.target.value })} /></${Field}>
          <${Field} label=${t("max_points")}><input type="number" min="1" value=${limit.maxPoints} onInput=${(e) => setLimit(i, { maxPoints: e.target.value })} /></${Field}>
          <button type="button" class="secondary" aria-label=${t("limit_remove", { n: i + 1 })}
            onClick=${() => set("limits", form.limits.filter((_, j) => j !== i))}>×</button>
        </div>`)}
        ${fieldMessage(errors, "limits") && html`<small class="error" role="alert">${fieldMessage(errors, "limits")}</small>`}
        <div><button type="button" class="secondary" onClick=${() => set("limits", [...form.limits, { period: "DAY", maxAwards: "1", maxPoints: "" }])}>${t("limit_add")}</button></div>
      </fieldset>
      ${data.segments.length > 0 && html`<fieldset class="row"><legend>${t("target_segments")}</legend>
        ${data.segments.map((s) => html`<label class="row"><input type="checkbox" checked=${form.segments.includes(s.name)}
          onChange=${() => set("segments", toggle(form.segments, s.name))} />${s.name}</label>`)}
      </fieldset>`}
      <${Errors} errors=${errors} />
      ${state.done && html`<p class="ok" role="status">${t("saved")}</p>`}
      <div class="row"><button class="primary" disabled=${state.busy}>${t("save")}</button></div>
    </form>
    <${Simulate} definition=${() => definitionOf(form)} />
  </${Section}>`;
}

// A simulation over the stored events of a period: the points it would have awarded (its
// cost), the awards, the members reached, by day, and the failures it would have had. It
// runs the definition as the form has it, so a change is tried before it is saved (a saved
// change to an active campaign is live at once).
function Simulate({ definition }) {
  const [since, setSince] = useState(daysAgo(30).toISOString().slice(0, 10));
  const [until, setUntil] = useState(new Date().toISOString().slice(0, 10));
  const [state, run] = useAction(async () => {
    const built = definition();
    if (built.problems.length) return { errors: built.problems };
    const input = { since: new Date(since + "T00:00:00").toISOString(), until: new Date(until + "T23:59:59").toISOString(), definition: built.definition };
    return mutate(SIMULATE, { input });
  });
  const sim = state.done?.simulation;
  return html`<${Section} title=${t("simulate")}>
    <p class="muted">${t("simulate_hint")}</p>
    <form class="row" onSubmit=${(e) => { e.preventDefault(); run(); }}>
      <${Field} label=${t("since")}><input type="date" name="since" value=${since} onInput=${(e) => setSince(e.target.value)} /></${Field}>
      <${Field} label=${t("until")}><input type="date" name="until" value=${until} onInput=${(e) => setUntil(e.target.value)} /></${Field}>
      <button class="secondary" disabled=${state.busy} data-testid="campaign-simulate">${t("simulate_run")}</button>
    </form>
    <${Errors} errors=${state.errors} />
    ${sim && html`<div data-testid="simulation">
      <dl class="facts">
        <dt>${t("sim_points")}</dt><dd><strong>${num(sim.points)}</strong></dd>
        <dt>${t("sim_awards")}</dt><dd>${num(sim.awards)}</dd>
        <dt>${t("sim_members")}</dt><dd>${num(sim.membersReached)}</dd>
        <dt>${t("sim_failures")}</dt><dd class=${sim.failures ? "error" : ""}>${num(sim.failures)}</dd>
      </dl>
      ${sim.sampleErrors.length > 0 && html`<ul class="errors">${sim.sampleErrors.map((e) => html`<li><code>${e}</code></li>`)}</ul>`}
      ${sim.budgetByDay.length > 1 && html`<${LineChart} title=${t("sim_by_day")}
        x=${sim.budgetByDay.map((d) => d.day)} series=${[[t("points"), sim.budgetByDay.map((d) => d.points)]]} />`}
      ${sim.topMembers.length > 0 && html`<h3>${t("sim_top")}</h3>
        <${Table} caption=${t("sim_top")} rows=${sim.topMembers} columns=${[
          [t("member"), (m) => html`<a href=${"#/members/" + m.memberId}>${m.memberId}</a>`],
          [t("points"), (m) => num(m.points)],
        ]} />`}
    </div>`}
  </${Section}>`;
}
