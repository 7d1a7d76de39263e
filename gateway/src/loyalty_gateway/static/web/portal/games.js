// Games: badges with progress, challenges to join, streaks, and the leaderboards with the
// member's own place and its neighbours.
import { mutate, query, useQuery } from "../common/api.js";
import { date, num, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { useEffect, useState } from "preact/hooks";

const GAMES = `query Games($id: ID!) {
  member(id: $id) { id
    badges { badge { id name description target } progress target earned }
    challenges { challenge { id name description endsAt optIn } joined completedAt steps { name count target done } }
    streaks { streak { id name unit } length best freezes }
  }
  leaderboards { id name description metric period }
}`;
const JOIN = `mutation Join($input: ChallengeJoinInput!) { challengeJoin(input: $input) { errors { code field message } } }`;
const PLAYER = `mutation Player($input: LeaderboardPlayerSetInput!) {
  leaderboardPlayerSet(input: $input) { displayName hidden errors { code field message } }
}`;
const STANDINGS = `query Standings($id: ID!, $member: ID!) {
  leaderboard(id: $id, first: 10, memberId: $member, neighbours: 2) {
    top { rank score displayName memberId } member { rank score } above { rank score displayName } below { rank score displayName }
  }
}`;

export function Games({ member }) {
  const state = useQuery(GAMES, { id: member.id });
  return html`<${Loaded} state=${state}>${(data) => html`
    <${Section} title=${t("badges")}>
      <ul class="list">${data.member.badges.map((b) => html`<li>
        <div class="row"><strong>${b.badge.name}</strong>${b.earned > 0 && html`<span class="pill ok">${t("earned", { n: b.earned })}</span>`}</div>
        <p class="muted">${b.badge.description}</p>
        <${Progress} value=${b.progress} target=${b.target} label=${b.badge.name} />
      </li>`)}</ul>
    </${Section}>
    <${Section} title=${t("challenges")}>
      ${data.member.challenges.length
        ? html`<ul class="list">${data.member.challenges.map((c) => html`<${ChallengeItem} item=${c} reload=${state.reload} />`)}</ul>`
        : html`<p class="muted">${t("no_challenges")}</p>`}
    </${Section}>
    <${Section} title=${t("streaks")}>
      <ul class="list">${data.member.streaks.map((s) => html`<li>
        <strong>${s.streak.name}</strong>
        <p>${t("streak_now", { n: s.length, best: s.best, unit: t("unit_" + s.streak.unit) })}</p>
        ${s.freezes > 0 && html`<p class="muted">${t("freezes", { n: s.freezes })}</p>`}
      </li>`)}</ul>
    </${Section}>
    ${data.leaderboards.length > 0 && html`<${Player} />`}
    ${data.leaderboards.map((board) => html`<${Board} board=${board} member=${member} />`)}`}
  </${Loaded}>`;
}

function Progress({ value, target, label }) {
  return html`<div class="progress" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax=${target} aria-valuenow=${value}>
    <span style=${`width:${Math.min(100, (100 * value) / Math.max(target, 1))}%`}></span>
  </div><small class="muted">${num(value)} / ${num(target)}</small>`;
}

function ChallengeItem({ item, reload }) {
  const [state, join] = useAction(() => mutate(JOIN, { input: { challengeId: item.challenge.id } }));
  return html`<li>
    <div class="row"><strong>${item.challenge.name}</strong>
      ${item.completedAt && html`<span class="pill ok">${t("completed")}</span>`}</div>
    <p class="muted">${item.challenge.description} · ${t("until", { date: date(item.challenge.endsAt) })}</p>
    ${item.steps.map((step) => html`<div><span>${step.done ? "✓ " : ""}${step.name}</span>
      <${Progress} value=${step.count} target=${step.target} label=${step.name} /></div>`)}
    ${item.challenge.optIn && !item.joined && html`<button class="primary" disabled=${state.busy}
      onClick=${async () => (await join()) && reload()}>${t("join")} <span class="sr-only">${item.challenge.name}</span></button>`}
    <${Errors} errors=${state.errors} />
  </li>`;
}

// How the member appears on the boards: a name of its choosing instead of the pseudonym the
// boards show by default, or not at all.
function Player() {
  const [name, setName] = useState("");
  const [hidden, setHidden] = useState(false);
  const [state, save] = useAction(() =>
    mutate(PLAYER, { input: { displayName: name.trim() || null, hidden } }),
  );
  return html`<${Section} title=${t("leaderboard_name")}>
    <form class="stack" onSubmit=${(e) => { e.preventDefault(); save(); }}>
      <${Field} label=${t("display_name")} hint=${t("display_name_hint")}>
        <input name="displayName" maxlength="40" value=${name} onInput=${(e) => setName(e.target.value)} />
      </${Field}>
      <label class="row"><input type="checkbox" checked=${hidden} onChange=${(e) => setHidden(e.target.checked)} />
        <span>${t("hide_me")}</span></label>
      <${Errors} errors=${state.errors} />
      ${state.done && html`<p class="ok" role="status">${t("saved")}</p>`}
      <button class="secondary" disabled=${state.busy}>${t("save")}</button>
    </form>
  </${Section}>`;
}

function Board({ board, member }) {
  const [standings, setStandings] = useState(null);
  useEffect(() => {
    query(STANDINGS, { id: board.id, member: member.id }).then((d) => setStandings(d.leaderboard), () => {});
  }, [board.id]);
  const rows = standings ? standings.top : [];
  return html`<${Section} title=${board.name}>
    <p class="muted">${board.description}</p>
    ${standings?.member && html`<p><strong>${t("your_rank", { rank: standings.member.rank, score: num(standings.member.score) })}</strong></p>`}
    <${Table} caption=${board.name} rows=${rows} columns=${[
      [t("rank"), (e) => e.rank],
      [t("name"), (e) => (e.memberId === member.id ? html`<strong>${e.displayName}</strong>` : e.displayName)],
      [t("score"), (e) => num(e.score)],
    ]} />
  </${Section}>`;
}
