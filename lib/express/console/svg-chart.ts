import type { DayCount } from '../../core/admin-stats';
import { fill, type Messages } from '../../i18n/catalog';
import { html, type SafeHtml } from '../../pages/html';
import { cell, headRow } from './console-page';

const W = 720;
const H = 240;
// Room for the marks at the plot's edges, in the round shares of W and H that the page's
// stylesheet (pages/style.ts, `.ec-y-max` and the rest) places the axis labels at.
const PAD = { left: 9, right: 9, top: 12, bottom: 12 };

/**
 * An inline SVG line chart of grants and withdrawals per day: one mark (round for grants, square
 * for withdrawals, its count in a `<title>`) per day and series, with the axes' labels beside
 * it, so it reads without JavaScript or any CDN. Each
 * series is drawn in the colour of its legend (`ec-ok`, `ec-bad`: the page's colour scheme),
 * with `color` as the fallback where no stylesheet gives it one.
 */
export function dailyChart(days: DayCount[], w: Messages): SafeHtml {
  const max = Math.max(1, ...days.map((d) => Math.max(d.grants, d.withdrawals)));
  const step = days.length > 1 ? (W - PAD.left - PAD.right) / (days.length - 1) : 0;
  const x = (i: number) => (PAD.left + i * step).toFixed(1);
  const y = (n: number) => (H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom)).toFixed(1);
  // The two series differ in line and mark too, not only in colour.
  const series = (key: 'grants' | 'withdrawals', colour: { cls: string; fallback: string }) => {
    const points = days.map((d, i) => `${x(i)},${y(d[key])}`).join(' ');
    const label = (d: DayCount) => `${d.day}: ${String(d[key])} ${w[key === 'grants' ? 'console.grants' : 'console.withdrawals']}`;
    // Each mark the cap of a line of no length: a round or square dot of 7 px at any width, where
    // a circle or square of the drawing would shrink with it (to 1 px on a phone).
    const cap = key === 'grants' ? 'round' : 'square';
    const dots = days.map((d, i) =>
      html`<path class="point ${key}" d="M${x(i)} ${y(d[key])}h0" stroke="currentColor" stroke-width="7" stroke-linecap="${cap}" vector-effect="non-scaling-stroke" data-day="${d.day}" data-count="${d[key]}"><title>${label(d)}</title></path>`);
    const dash = key === 'grants' ? null : html` stroke-dasharray="6 4"`;
    return html`<g class="series ${key} ${colour.cls}" color="${colour.fallback}"><polyline fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke"${dash} points="${points}"/>${dots}</g>`;
  };
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  // The axes' labels are the page's text beside the drawing, not in it: text in the drawing
  // shrinks with it, to 5 px on a phone. Screen readers skip them, as they did the drawing's
  // text: its label names the days, and the table under it gives the counts.
  return html`<div class="ec-plot"><div class="ec-y" aria-hidden="true"><span class="ec-y-max">${max}</span><span class="ec-y-zero">0</span></div>
<div class="ec-area"><svg class="chart" role="img" aria-label="${fill(w['console.chartLabel'], { first, last })}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">
<line class="ec-axis-x" x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#767676" vector-effect="non-scaling-stroke"/>
<line class="ec-axis-y" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#767676" vector-effect="non-scaling-stroke"/>
${series('grants', { cls: 'ec-ok', fallback: '#146c2e' })}${series('withdrawals', { cls: 'ec-bad', fallback: '#b3261e' })}
</svg></div><div class="ec-x" aria-hidden="true"><span class="ec-x-first">${first}</span><span class="ec-x-last">${last}</span></div></div>`;
}

/**
 * The chart's numbers as a table, in a disclosure under it: what a screen reader, a keyboard
 * or a narrow screen can read where the chart's points are out of reach.
 */
export function dailyTable(days: DayCount[], w: Messages): SafeHtml {
  const rows = days.map((d) => html`<tr><th scope="row">${d.day}</th>${cell(w['console.grants'], d.grants, 'ec-n')}${cell(w['console.withdrawals'], d.withdrawals, 'ec-n')}</tr>`);
  // One block per day on a narrow screen: three columns of long words do not fit a phone at 200%.
  return html`<details class="ec-chart-table"><summary>${w['console.chartTable']}</summary>
<table class="ec-stack">${headRow([w['console.day'], w['console.grants'], w['console.withdrawals']], [1, 2])}
<tbody>${rows}</tbody></table></details>`;
}
