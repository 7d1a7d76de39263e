// History: every movement of the member's points, newest first, each with its cause in
// words (a campaign and its version, a purchase, an operator), filtered by kind and asset.
import { useState } from "preact/hooks";
import { useQuery } from "../common/api.js";
import { dateTime, num, t } from "../common/i18n.js";
import { Field, Loaded, Section, Table, html } from "../common/ui.js";

const HISTORY = `query History($id: ID!) {
  explainBalance(memberId: $id, first: 100) { at asset amount kind cause campaignId campaignVersion }
}`;
const KINDS = ["EARN", "SPEND", "ADJUSTMENT", "REVERSAL", "EXPIRY", "RELEASE", "TRANSFER"];

export function History({ member }) {
  const state = useQuery(HISTORY, { id: member.id });
  const [kind, setKind] = useState("");
  const [asset, setAsset] = useState("");
  return html`<${Section} title=${t("nav_history")}>
    <${Loaded} state=${state}>${(data) => {
      const entries = data.explainBalance ?? [];
      const assets = [...new Set(entries.map((e) => e.asset))];
      const shown = entries.filter((e) => (!kind || e.kind === kind) && (!asset || e.asset === asset));
      return html`
        <div class="row">
          <${Field} label=${t("kind")}>
            <select value=${kind} onChange=${(e) => setKind(e.target.value)}>
              <option value="">${t("all")}</option>
              ${KINDS.map((k) => html`<option value=${k}>${t("kind_" + k)}</option>`)}
            </select>
          </${Field}>
          ${assets.length > 1 && html`<${Field} label=${t("asset")}>
            <select value=${asset} onChange=${(e) => setAsset(e.target.value)}>
              <option value="">${t("all")}</option>
              ${assets.map((a) => html`<option value=${a}>${a}</option>`)}
            </select>
          </${Field}>`}
        </div>
        <${Table} caption=${t("nav_history")} rows=${shown} columns=${[
          [t("when"), (e) => dateTime(e.at)],
          [t("what"), (e) => html`${t("kind_" + e.kind)}<br /><small class="muted">${e.cause}</small>`],
          [t("points"), (e) => html`<span class=${e.amount < 0 ? "error" : "ok"}>${e.amount > 0 ? "+" : ""}${num(e.amount)} ${e.asset}</span>`],
        ]} />`;
    }}</${Loaded}>
  </${Section}>`;
}
