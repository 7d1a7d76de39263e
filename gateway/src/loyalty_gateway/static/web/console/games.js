// Gamification: the badges, challenges, streaks and leaderboards, each with its status and
// health (failures of its condition, why it paused), and a board's current standings.
import { useState } from "preact/hooks";
import { useQuery } from "../common/api.js";
import { date, num, t } from "../common/i18n.js";
import { Loaded, Section, Table, html } from "../common/ui.js";
import { More, Status, nodes, usePageSize } from "./parts.js";

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
    </${Section}>
    <${Section} title=${t("streaks")}>
      <${Table} caption=${t("streaks")} rows=${data.streaks} testid="streak-row" columns=${[
        [t("name"), (s) => s.name],
        [t("counts"), (s) => html`<code>${s.eventType}</code> ${t("unit_" + s.unit)}`],
        [t("milestones"), (s) => s.milestones.map((m) => `${m.length}: ${num(m.points)}`).join(", ")],
        [t("status"), (s) => html`<${Status} value=${s.status} />`],
        [t("health"), (s) => health(s.health)],
      ]} />
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
    </${Section}>`}
  </${Loaded}>`;
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
