// Segments: named conditions over members (CEL over `member` and `now`) that campaigns,
// rewards and offers target by name. List, create, change, delete; the condition checked as
// it is typed.
import { useState } from "preact/hooks";
import { mutate, useQuery } from "../common/api.js";
import { date, t } from "../common/i18n.js";
import { Errors, Field, Loaded, Section, Table, html, useAction } from "../common/ui.js";
import { ConditionEditor } from "./conditions.js";

const SEGMENTS = `query ConsoleSegments { segments { id name condition createdAt updatedAt } }`;
const CREATE = `mutation ConsoleSegmentCreate($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id } errors { code field message line column } }
}`;
const UPDATE = `mutation ConsoleSegmentUpdate($input: SegmentUpdateInput!) {
  segmentUpdate(input: $input) { segment { id } errors { code field message line column } }
}`;
const DELETE = `mutation ConsoleSegmentDelete($id: ID!) {
  segmentDelete(id: $id) { deletedId errors { code field message } }
}`;

export function Segments() {
  const state = useQuery(SEGMENTS);
  const [editing, setEditing] = useState(null);
  const [removed, remove] = useAction((segment) => mutate(DELETE, { id: segment.id }));
  return html`<${Section} title=${t("segments")}>
    <${Loaded} state=${state}>${(data) => html`
      <${Table} caption=${t("segments")} rows=${data.segments} testid="segment-row" columns=${[
        [t("name"), (s) => s.name],
        [t("condition"), (s) => html`<code>${s.condition}</code>`],
        [t("updated"), (s) => date(s.updatedAt)],
        [t("actions"), (s) => html`<div class="row">
          <button class="secondary" aria-label=${t("edit_named", { name: s.name })} onClick=${() => setEditing(s)}>${t("edit")}</button>
          <button class="secondary danger" aria-label=${t("delete_named", { name: s.name })} disabled=${removed.busy}
            onClick=${async () => confirm(t("delete_confirm", { name: s.name })) && (await remove(s)) && state.reload()}>${t("delete")}</button>
        </div>`],
      ]} />`}
    </${Loaded}>
    <${Errors} errors=${removed.errors} />
  </${Section}>
  <${SegmentForm} key=${editing?.id ?? "new"} segment=${editing} onDone=${() => { setEditing(null); state.reload(); }} />`;
}

function SegmentForm({ segment, onDone }) {
  const [name, setName] = useState(segment?.name ?? "");
  const [condition, setCondition] = useState(segment?.condition ?? "");
  const [state, save] = useAction(() =>
    segment ? mutate(UPDATE, { input: { id: segment.id, name, condition } }) : mutate(CREATE, { input: { name, condition } }),
  );
  const fieldError = (field) => state.errors?.filter((e) => e.field === field).map((e) => e.message).join("; ") || null;
  return html`<${Section} title=${segment ? t("segment_edit", { name: segment.name }) : t("segment_new")}>
    <form class="stack" data-testid="segment-form" onSubmit=${async (e) => { e.preventDefault(); if (await save()) { setName(""); setCondition(""); onDone(); } }}>
      <${Field} label=${t("name")} error=${fieldError("name")}><input name="name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      <${ConditionEditor} value=${condition} onChange=${setCondition} errors=${state.errors?.filter((e) => e.field === "condition")}
        hint=${t("segment_condition_hint")} testid="segment-condition" />
      <${Errors} errors=${state.errors} />
      <div class="row">
        <button class="primary" disabled=${state.busy}>${segment ? t("save") : t("create")}</button>
        ${segment && html`<button type="button" class="secondary" onClick=${onDone}>${t("cancel")}</button>`}
      </div>
    </form>
  </${Section}>`;
}
