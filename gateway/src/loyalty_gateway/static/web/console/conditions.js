// A CEL condition's editor, checked as it is typed: `conditionCheck` runs the same checks
// as saving (syntax, then every field the trigger's events or the member lack) without
// saving anything, a moment after the typing stops. Each problem shows with its line and
// column, and the line itself with a mark under the place.
import { useEffect, useRef, useState } from "preact/hooks";
import { query } from "../common/api.js";
import { t } from "../common/i18n.js";
import { Field, html } from "../common/ui.js";

const CHECK = `query ConsoleConditionCheck($expression: String!, $trigger: String) {
  conditionCheck(expression: $expression, trigger: $trigger) { valid errors { code field message line column } }
}`;
const PAUSE_MS = 400;

// The problems of `expression` (for a campaign with `trigger`; a segment's without), or
// null while none was checked. An empty segment condition is not checked: it is required.
export function useConditionCheck(expression, trigger) {
  const [problems, setProblems] = useState(null);
  useEffect(() => {
    if (trigger === null && !expression.trim()) {
      setProblems(null);
      return undefined;
    }
    let current = true;
    const timer = setTimeout(async () => {
      try {
        const data = await query(CHECK, { expression, trigger });
        if (current) setProblems(data.conditionCheck.errors);
      } catch {
        if (current) setProblems(null);
      }
    }, PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [expression, trigger]);
  return problems;
}

// `errors`: the problems of saving (they win while the text is what was saved); else those
// of the check as typed. The API's messages say the line and column; the mark shows them.
export function ConditionEditor({ value, onChange, trigger = null, errors, hint, testid }) {
  const checked = useConditionCheck(value, trigger);
  // The text the save's errors are about: once it is edited, the check's problems show.
  const key = JSON.stringify(errors ?? []);
  const saved = useRef({ key, value });
  if (saved.current.key !== key) saved.current = { key, value };
  const shown = errors?.length && saved.current.value === value ? errors : (checked ?? []);
  const lines = value.split("\n");
  const message = shown.length ? shown.map((e) => e.message).join("; ") : null;
  return html`<div class="stack condition">
    <${Field} label=${t("condition")} hint=${hint} error=${message}>
      <textarea name="condition" class="mono" spellcheck="false" rows="4" aria-invalid=${message ? "true" : "false"}
        value=${value} onInput=${(e) => onChange(e.target.value)} data-testid=${testid}></textarea>
    </${Field}>
    ${shown.filter((e) => e.line && lines[e.line - 1] !== undefined).map((e) => html`<pre class="mark" aria-hidden="true"
      data-testid="condition-mark">${lines[e.line - 1] + "\n" + " ".repeat(Math.max((e.column ?? 1) - 1, 0)) + "^"}</pre>`)}
    ${checked && !shown.length && value.trim() && html`<small class="ok" data-testid="condition-ok">${t("condition_ok")}</small>`}
  </div>`;
}
