// Gamification: the badges, challenges, streaks and leaderboards, each with its status and
// health (failures of its condition, why it paused), and a board's current standings; a new
// badge, challenge, streak or leaderboard.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { ConditionEditor } from "./conditions.js";
import { More, Status, daysAgo, fromLocalInput, nodes, toLocalInput, usePageSize } from "./parts.js";

const GAMES = `query ConsoleGames($first: Int) {
  badges(first: $first) {
    edges { node { id name eventType condition measure target period repeatable secret status
      reward { points asset } health { failures lastError pausedReason } } }
    pageInfo { hasNextPage endCursor }
  }
  challenges { id name startsAt endsAt optIn steps { name target } reward { points asset } status health { failures lastError pausedReason } }
  streaks { id name eventType unit maxFreezes milestones { length points } status health { failures lastError pausedReason } }
  leaderboards { id name metric period status prizes { fromRank toRank points } }
}`;
const BADGE_CREATE = `mutation ConsoleBadgeCreate($input: BadgeCreateInput!) {
  badgeCreate(input: $input) { badge { id } errors { code field message line column } }
}`;
const STREAK_CREATE = `mutation ConsoleStreakCreate($input: StreakCreateInput!) {
  streakCreate(input: $input) { streak { id } errors { code field message line column } }
}`;
const CHALLENGE_CREATE = `mutation ConsoleChallengeCreate($input: ChallengeCreateInput!) {
  challengeCreate(input: $input) { challenge { id } errors { code field message line column } }
}`;
const LEADERBOARD_CREATE = `mutation ConsoleLeaderboardCreate($input: LeaderboardCreateInput!) {
  leaderboardCreate(input: $input) { leaderboard { id } errors { code field message } }
}`;
const EVENT_TYPES = `query ConsoleEventTypes { eventTypes { name } }`;
const STANDINGS = `query ConsoleStandings($id: ID!) {
  leaderboard(id: $id, first: 10) { windowKey top { rank memberId score displayName } }
}`;

function health(h) {
  if (!h.failures) return html`<span class="ok">${t("healthy")}</span>`;
  return html`<span class="error">${t("failures_count", { n: num(h.failures) })}${h.pausedReason && html`<br />${h.pausedReason}`}</span>`;
}

export function Games() {
  const [size, more] = usePageSize();
  const state = useQuery(GAMES, { first: size });
  const [board, setBoard] = useState(null);
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Section} title=${t("badges")}>
      <${Table} caption=${t("badges")} rows=${nodes(data.badges)} testid="badge-row" columns=${[
        [t("name"), (b) => html`${b.name}${b.secret && html` <span class="pill">${t("secret")}</span>`}`],
        [t("counts"), (b) => html`<code>${b.eventType}</code> ${t("measure_" + b.measure)} ≥ ${num(b.target)} (${t("period_" + b.period)})`],
        [t("reward"), (b) => (b.reward.points ? `${num(b.reward.points)} ${b.reward.asset}` : "")],
        [t("status"), (b) => html`<${Status} value=${b.status} />`],
        [t("health"), (b) => health(b.health)],
      ]} />
      <${More} connection=${data.badges} onMore=${more} busy=${state.loading} />
      <${CreateBadge} onCreated=${state.reload} />
    </${Section}>
    <${Section} title=${t("challenges")}>
      <${Table} caption=${t("challenges")} rows=${data.challenges} testid="challenge-row" columns=${[
        [t("name"), (c) => c.name],
        [t("runs"), (c) => `${date(c.startsAt)} – ${date(c.endsAt)}`],
        [t("steps"), (c) => c.steps.map((s) => `${s.name} ×${s.target}`).join(", ")],
        [t("reward"), (c) => (c.reward.points ? `${num(c.reward.points)} ${c.reward.asset}` : "")],
        [t("status"), (c) => html`<${Status} value=${c.status} />`],
        [t("health"), (c) => health(c.health)],
      ]} />
      <${CreateChallenge} onCreated=${state.reload} />
    </${Section}>
    <${Section} title=${t("streaks")}>
      <${Table} caption=${t("streaks")} rows=${data.streaks} testid="streak-row" columns=${[
        [t("name"), (s) => s.name],
        [t("counts"), (s) => html`<code>${s.eventType}</code> ${t("unit_" + s.unit)}`],
        [t("milestones"), (s) => s.milestones.map((m) => `${m.length}: ${num(m.points)}`).join(", ")],
        [t("status"), (s) => html`<${Status} value=${s.status} />`],
        [t("health"), (s) => health(s.health)],
      ]} />
      <${CreateStreak} onCreated=${state.reload} />
    </${Section}>
    <${Section} title=${t("leaderboards")}>
      <${Table} caption=${t("leaderboards")} rows=${data.leaderboards} testid="leaderboard-row" columns=${[
        [t("name"), (l) => l.name],
        [t("metric"), (l) => `${t("lb_metric_" + l.metric)} (${t("period_" + l.period)})`],
        [t("prizes"), (l) => l.prizes.map((p) => `${p.fromRank}–${p.toRank}: ${num(p.points)}`).join(", ")],
        [t("status"), (l) => html`<${Status} value=${l.status} />`],
        [t("standings"), (l) => html`<button class="secondary" aria-label=${t("standings_of", { name: l.name })}
          aria-pressed=${board === l.id} onClick=${() => setBoard(board === l.id ? null : l.id)}>${t("show")}</button>`],
      ]} />
      ${board && html`<${Standings} id=${board} />`}
      <${CreateLeaderboard} onCreated=${state.reload} />
    </${Section}>`}
  </${Loaded}>`;
}

const PERIODS = ["ALL_TIME", "WEEK", "MONTH"];

// A badge: count (or sum a field of) a type of event, optionally under a condition, to a
// target within a period, for points.
function CreateBadge({ onCreated }) {
  const types = useEventTypes();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: "", description: "", eventType: "purchase", measure: "COUNT", sumField: "", target: "5", period: "MONTH", condition: "", rewardPoints: "50" });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const choose = (name) => ({ ...bind(name), onChange: (e) => setForm({ ...form, [name]: e.target.value }) });
  const [state, create] = useAction(() => mutate(BADGE_CREATE, { input: {
    name: form.name, description: form.description, eventType: form.eventType, measure: form.measure,
    sumField: form.measure === "SUM" ? form.sumField : null, target: Number(form.target), period: form.period,
    condition: form.condition, rewardPoints: Number(form.rewardPoints || 0),
  } }));
  const error = (field) => state.errors?.filter((e) => e.field === field).map((e) => e.message).join("; ") || null;
  if (!open) return html`<div><button class="secondary" aria-expanded="false" onClick=${() => setOpen(true)}>${t("badge_new")}</button></div>`;
  return html`<form class="stack" data-testid="badge-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) { setOpen(false); onCreated(); } }}>
    <h3>${t("badge_new")}</h3>
    <div class="grid">
      <${Field} label=${t("name")} error=${error("name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("description")}><input ...${bind("description")} /></${Field}>
      <${Field} label=${t("event_type")} error=${error("eventType")}>
        <select ...${choose("eventType")}>${types.map((name) => html`<option value=${name}>${name}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("measure")}>
        <select ...${choose("measure")}><option value="COUNT">${t("measure_COUNT")}</option><option value="SUM">${t("measure_SUM")}</option></select>
      </${Field}>
      ${form.measure === "SUM" && html`<${Field} label=${t("sum_field")} hint=${t("sum_field_hint")} error=${error("sumField")}><input required ...${bind("sumField")} /></${Field}>`}
      <${Field} label=${t("target")} error=${error("target")}><input type="number" min="1" required ...${bind("target")} /></${Field}>
      <${Field} label=${t("period")}>
        <select ...${choose("period")}>${PERIODS.map((p) => html`<option value=${p}>${t("period_" + p)}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("reward_points")} error=${error("rewardPoints")}><input type="number" min="0" ...${bind("rewardPoints")} /></${Field}>
    </div>
    <${ConditionEditor} value=${form.condition} trigger=${form.eventType} onChange=${(condition) => setForm({ ...form, condition })}
      errors=${state.errors?.filter((e) => e.field === "condition")} hint=${t("badge_condition_hint")} testid="badge-condition" />
    <${Errors} errors=${state.errors} />
    <div class="row">
      <button class="primary" disabled=${state.busy}>${t("create")}</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>${t("cancel")}</button>
    </div>
  </form>`;
}

// Comma-separated parts each matching `pattern` ("7:50, 30:300" with /(\d+):(\d+)/) as their
// numbers ([[7, 50], [30, 300]]); null when a part does not match.
function parts(text, pattern) {
  const found = text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => part.match(pattern));
  return found.every(Boolean) ? found.map((match) => match.slice(1).map(Number)) : null;
}

const MILESTONE = /^(\d+)\s*:\s*(\d+)$/;
const PRIZE = /^(\d+)\s*-\s*(\d+)\s*:\s*(\d+)$/;

function useEventTypes() {
  const types = useQuery(EVENT_TYPES);
  return (types.data?.eventTypes ?? [{ name: "purchase" }]).map((e) => e.name);
}

// A streak: a type of event on consecutive days or weeks, with points at milestones.
function CreateStreak({ onCreated }) {
  const types = useEventTypes();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: "", description: "", eventType: "purchase", unit: "WEEK", condition: "", maxFreezes: "0", milestones: "4:50, 12:200" });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const choose = (name) => ({ ...bind(name), onChange: (e) => setForm({ ...form, [name]: e.target.value }) });
  const [state, create] = useAction(() => {
    const milestones = parts(form.milestones, MILESTONE);
    if (!milestones) return { errors: [{ code: "INVALID_INPUT", field: "milestones", message: t("milestones_hint") }] };
    return mutate(STREAK_CREATE, { input: {
      name: form.name, description: form.description, eventType: form.eventType, unit: form.unit, condition: form.condition,
      maxFreezes: Number(form.maxFreezes || 0), milestones: milestones.map(([length, points]) => ({ length, points })),
    } });
  });
  const error = (field) => state.errors?.filter((e) => e.field?.startsWith(field)).map((e) => e.message).join("; ") || null;
  if (!open) return html`<div><button class="secondary" aria-expanded="false" onClick=${() => setOpen(true)}>${t("streak_new")}</button></div>`;
  return html`<form class="stack" data-testid="streak-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) { setOpen(false); onCreated(); } }}>
    <h3>${t("streak_new")}</h3>
    <div class="grid">
      <${Field} label=${t("name")} error=${error("name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("description")}><input ...${bind("description")} /></${Field}>
      <${Field} label=${t("event_type")}><select ...${choose("eventType")}>${types.map((name) => html`<option value=${name}>${name}</option>`)}</select></${Field}>
      <${Field} label=${t("streak_unit")}>
        <select ...${choose("unit")}><option value="DAY">${t("unit_DAY")}</option><option value="WEEK">${t("unit_WEEK")}</option></select>
      </${Field}>
      <${Field} label=${t("max_freezes")} error=${error("maxFreezes")}><input type="number" min="0" ...${bind("maxFreezes")} /></${Field}>
      <${Field} label=${t("milestones")} hint=${t("milestones_hint")} error=${error("milestones")}><input required ...${bind("milestones")} /></${Field}>
    </div>
    <${ConditionEditor} value=${form.condition} trigger=${form.eventType} onChange=${(condition) => setForm({ ...form, condition })}
      errors=${state.errors?.filter((e) => e.field === "condition")} hint=${t("badge_condition_hint")} testid="streak-condition" />
    <${Errors} errors=${state.errors} />
    <div class="row">
      <button class="primary" disabled=${state.busy}>${t("create")}</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>${t("cancel")}</button>
    </div>
  </form>`;
}

// A challenge: steps (a type of event, a number of times, optionally under a condition),
// in order or not, within its dates, for points.
function CreateChallenge({ onCreated }) {
  const types = useEventTypes();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: "", description: "", startsAt: toLocalInput(new Date()), endsAt: toLocalInput(daysAgo(-30)),
    ordered: false, optIn: true, rewardPoints: "100", steps: [{ name: "", eventType: "purchase", target: "1", condition: "" }] });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const check = (name) => ({ name, checked: form[name], onChange: (e) => setForm({ ...form, [name]: e.target.checked }) });
  const setStep = (i, patch) => setForm({ ...form, steps: form.steps.map((step, j) => (i === j ? { ...step, ...patch } : step)) });
  const [state, create] = useAction(() => mutate(CHALLENGE_CREATE, { input: {
    name: form.name, description: form.description, startsAt: fromLocalInput(form.startsAt), endsAt: fromLocalInput(form.endsAt),
    ordered: form.ordered, optIn: form.optIn, rewardPoints: Number(form.rewardPoints || 0),
    steps: form.steps.map((step) => ({ name: step.name, eventType: step.eventType, target: Number(step.target), condition: step.condition })),
  } }));
  const error = (field) => state.errors?.filter((e) => e.field?.startsWith(field)).map((e) => e.message).join("; ") || null;
  if (!open) return html`<div><button class="secondary" aria-expanded="false" onClick=${() => setOpen(true)}>${t("challenge_new")}</button></div>`;
  return html`<form class="stack" data-testid="challenge-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) { setOpen(false); onCreated(); } }}>
    <h3>${t("challenge_new")}</h3>
    <div class="grid">
      <${Field} label=${t("name")} error=${error("name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("description")}><input ...${bind("description")} /></${Field}>
      <${Field} label=${t("starts_at")} error=${error("startsAt")}><input type="datetime-local" required ...${bind("startsAt")} /></${Field}>
      <${Field} label=${t("ends_at")} error=${error("endsAt")}><input type="datetime-local" required ...${bind("endsAt")} /></${Field}>
      <${Field} label=${t("reward_points")} error=${error("rewardPoints")}><input type="number" min="0" ...${bind("rewardPoints")} /></${Field}>
    </div>
    <div class="row">
      <label class="row"><input type="checkbox" ...${check("ordered")} />${t("steps_in_order")}</label>
      <label class="row"><input type="checkbox" ...${check("optIn")} />${t("opt_in")}</label>
    </div>
    <fieldset class="stack"><legend>${t("steps")}</legend>
      ${form.steps.map((step, i) => html`<div class="stack" data-testid="challenge-step">
        <div class="row">
          <${Field} label=${t("step_name", { n: i + 1 })} error=${error(`steps.${i}.name`)}><input required value=${step.name} onInput=${(e) => setStep(i, { name: e.target.value })} /></${Field}>
          <${Field} label=${t("step_event", { n: i + 1 })}>
            <select value=${step.eventType} onChange=${(e) => setStep(i, { eventType: e.target.value })}>${types.map((name) => html`<option value=${name}>${name}</option>`)}</select>
          </${Field}>
          <${Field} label=${t("step_target", { n: i + 1 })}><input type="number" min="1" value=${step.target} onInput=${(e) => setStep(i, { target: e.target.value })} /></${Field}>
          <button type="button" class="secondary" aria-label=${t("step_remove", { n: i + 1 })}
            onClick=${() => setForm({ ...form, steps: form.steps.filter((_, j) => j !== i) })}>×</button>
        </div>
        <${ConditionEditor} value=${step.condition} trigger=${step.eventType} onChange=${(condition) => setStep(i, { condition })}
          errors=${state.errors?.filter((e) => e.field === `steps.${i}.condition`)} hint=${t("badge_condition_hint")} testid="step-condition" />
      </div>`)}
      <div><button type="button" class="secondary" onClick=${() => setForm({ ...form, steps: [...form.steps, { name: "", eventType: "purchase", target: "1", condition: "" }] })}>${t("step_add")}</button></div>
    </fieldset>
    <${Errors} errors=${state.errors} />
    <div class="row">
      <button class="primary" disabled=${state.busy}>${t("create")}</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>${t("cancel")}</button>
    </div>
  </form>`;
}

const LB_METRICS = ["SPEND", "VISITS", "BADGES", "POINTS", "EVENT_FIELD"];

// A leaderboard over a period, with points for the places ("1-1:200, 2-3:50").
function CreateLeaderboard({ onCreated }) {
  const types = useEventTypes();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: "", description: "", metric: "SPEND", period: "MONTH", eventType: "purchase", field: "", prizes: "1-1:200, 2-3:50" });
  const bind = (name) => ({ name, value: form[name], onInput: (e) => setForm({ ...form, [name]: e.target.value }) });
  const choose = (name) => ({ ...bind(name), onChange: (e) => setForm({ ...form, [name]: e.target.value }) });
  const [state, create] = useAction(() => {
    const prizes = parts(form.prizes, PRIZE);
    if (!prizes) return { errors: [{ code: "INVALID_INPUT", field: "prizes", message: t("prizes_hint") }] };
    const byField = form.metric === "EVENT_FIELD";
    return mutate(LEADERBOARD_CREATE, { input: {
      name: form.name, description: form.description, metric: form.metric, period: form.period,
      eventType: byField ? form.eventType : null, field: byField ? form.field : null,
      prizes: prizes.map(([fromRank, toRank, points]) => ({ fromRank, toRank, points })),
    } });
  });
  const error = (field) => state.errors?.filter((e) => e.field?.startsWith(field)).map((e) => e.message).join("; ") || null;
  if (!open) return html`<div><button class="secondary" aria-expanded="false" onClick=${() => setOpen(true)}>${t("leaderboard_new")}</button></div>`;
  return html`<form class="stack" data-testid="leaderboard-form" onSubmit=${async (e) => { e.preventDefault(); if (await create()) { setOpen(false); onCreated(); } }}>
    <h3>${t("leaderboard_new")}</h3>
    <div class="grid">
      <${Field} label=${t("name")} error=${error("name")}><input required ...${bind("name")} /></${Field}>
      <${Field} label=${t("description")}><input ...${bind("description")} /></${Field}>
      <${Field} label=${t("metric")}><select ...${choose("metric")}>${LB_METRICS.map((m) => html`<option value=${m}>${t("lb_metric_" + m)}</option>`)}</select></${Field}>
      <${Field} label=${t("period")}><select ...${choose("period")}>${PERIODS.map((p) => html`<option value=${p}>${t("period_" + p)}</option>`)}</select></${Field}>
      ${form.metric === "EVENT_FIELD" && html`
        <${Field} label=${t("event_type")}><select ...${choose("eventType")}>${types.map((name) => html`<option value=${name}>${name}</option>`)}</select></${Field}>
        <${Field} label=${t("sum_field")} hint=${t("sum_field_hint")} error=${error("field")}><input required ...${bind("field")} /></${Field}>`}
      <${Field} label=${t("prizes")} hint=${t("prizes_hint")} error=${error("prizes")}><input ...${bind("prizes")} /></${Field}>
    </div>
    <${Errors} errors=${state.errors} />
    <div class="row">
      <button class="primary" disabled=${state.busy}>${t("create")}</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>${t("cancel")}</button>
    </div>
  </form>`;
}

function Standings({ id }) {
  const state = useQuery(STANDINGS, { id });
  return html`<${Loaded} state=${state}>${(data) => html`
    <h3>${t("standings")} <small class="muted">${data.leaderboard.windowKey}</small></h3>
    <${Table} caption=${t("standings")} rows=${data.leaderboard.top} columns=${[
      [t("rank"), (e) => e.rank],
      [t("member"), (e) => html`<a href=${"#/members/" + e.memberId}>${e.displayName ?? e.memberId}</a>`],
      [t("score"), (e) => num(e.score)],
    ]} />`}
  </${Loaded}>`;
}
