// A line chart of values by day (uPlot), sized to its card, with the same numbers in a
// table for screen readers (the canvas itself is hidden from them).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { date, num, t } from "../common/i18n.js";
import { html } from "../common/ui.js";

const COLOURS = ["#0b5c57", "#8a3b12", "#3d4db7", "#a4161a", "#1d6b2c"];

// `x`: days (ISO dates); `series`: [label, values] pairs, one value per day.
export function LineChart({ title, x, series }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    const times = x.map((day) => new Date(day + "T12:00:00").getTime() / 1000);
    const size = () => ({ width: Math.max(element.clientWidth, 240), height: 220 });
    const plot = new uPlot(
      {
        ...size(),
        series: [{ label: t("day"), value: (_, v) => (v === null ? "" : date(new Date(v * 1000))) }, ...series.map(([label], i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2, value: (_, v) => (v === null ? "" : num(v)) }))],
        axes: [{}, { values: (_, ticks) => ticks.map((v) => num(v)), size: 60 }],
        legend: { show: series.length > 1 },
      },
      [times, ...series.map(([, values]) => values)],
      element,
    );
    const observer = new ResizeObserver(() => plot.setSize(size()));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify([x, series])]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div ref=${box} aria-hidden="true"></div>
    <div class="sr-only"><table>
      <caption>${title}</caption>
      <thead><tr><th scope="col">${t("day")}</th>${series.map(([label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
      <tbody>${x.map((day, i) => html`<tr><th scope="row">${date(day)}</th>${series.map(([, values]) => html`<td>${num(values[i] ?? 0)}</td>`)}</tr>`)}</tbody>
    </table></div>
  </figure>`;
}
