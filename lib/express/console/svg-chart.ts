import type { DayCount } from '../../core/admin-stats';
import { fill, type Messages } from '../../i18n/catalog';
import { html, type SafeHtml } from '../../pages/html';

const W = 720;
const H = 240;
const PAD = { left: 40, right: 16, top: 16, bottom: 32 };

/**
 * An inline SVG line chart of grants and withdrawals per day: one point (a circle with its
 * count in a `<title>`) per day and series, so it reads without JavaScript or any CDN. Each
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
    const dots = days.map((d, i) =>
      key === 'grants'
        ? html`<circle class="point ${key}" cx="${x(i)}" cy="${y(d[key])}" r="3" fill="currentColor" data-day="${d.day}" data-count="${d[key]}"><title>${label(d)}</title></circle>`
        : html`<rect class="point ${key}" x="${(Number(x(i)) - 3).toFixed(1)}" y="${(Number(y(d[key])) - 3).toFixed(1)}" width="6" height="6" fill="currentColor" data-day="${d.day}" data-count="${d[key]}"><title>${label(d)}</title></rect>`);
    const dash = key === 'grants' ? null : html` stroke-dasharray="6 4"`;
    return html`<g class="series ${key} ${colour.cls}" color="${colour.fallback}"><polyline fill="none" stroke="currentColor" stroke-width="2"${dash} points="${points}"/>${dots}</g>`;
  };
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  return html`<svg class="chart" role="img" aria-label="${fill(w['console.chartLabel'], { first, last })}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#767676"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#767676"/>
<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end" font-size="13">${max}</text>
<text x="${PAD.left - 6}" y="${H - PAD.bottom + 4}" text-anchor="end" font-size="13">0</text>
<text x="${PAD.left}" y="${H - 10}" font-size="13">${first}</text>
<text x="${W - PAD.right}" y="${H - 10}" text-anchor="end" font-size="13">${last}</text>
${series('grants', { cls: 'ec-ok', fallback: '#146c2e' })}${series('withdrawals', { cls: 'ec-bad', fallback: '#b3261e' })}
</svg>`;
}

/**
 * The chart's numbers as a table, in a disclosure under it: what a screen reader, a keyboard
 * or a narrow screen can read where the chart's points are out of reach.
 */
export function dailyTable(days: DayCount[], w: Messages): SafeHtml {
  const rows = days.map((d) => html`<tr><th scope="row">${d.day}</th><td>${d.grants}</td><td>${d.withdrawals}</td></tr>`);
  return html`<details class="ec-chart-table"><summary>${w['console.chartTable']}</summary>
<table><thead><tr><th scope="col">${w['console.day']}</th><th scope="col">${w['console.grants']}</th><th scope="col">${w['console.withdrawals']}</th></tr></thead>
<tbody>${rows}</tbody></table></details>`;
}
