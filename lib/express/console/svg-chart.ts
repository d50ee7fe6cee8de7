import type { DayCount } from '../../core/admin-stats';
import { escapeHtml } from '../escape-html';

const W = 720;
const H = 240;
const PAD = { left: 40, right: 16, top: 16, bottom: 32 };

/**
 * An inline SVG line chart of grants and withdrawals per day: one point (a circle with its
 * count in a `<title>`) per day and series, so it reads without JavaScript or any CDN.
 */
export function dailyChart(days: DayCount[]): string {
  const max = Math.max(1, ...days.map((d) => Math.max(d.grants, d.withdrawals)));
  const step = days.length > 1 ? (W - PAD.left - PAD.right) / (days.length - 1) : 0;
  const x = (i: number) => (PAD.left + i * step).toFixed(1);
  const y = (n: number) => (H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom)).toFixed(1);
  const series = (key: 'grants' | 'withdrawals', color: string) => {
    const points = days.map((d, i) => `${x(i)},${y(d[key])}`).join(' ');
    const dots = days
      .map((d, i) => `<circle class="point ${key}" cx="${x(i)}" cy="${y(d[key])}" r="3" fill="${color}" data-day="${d.day}" data-count="${String(d[key])}"><title>${escapeHtml(`${d.day}: ${String(d[key])} ${key}`)}</title></circle>`)
      .join('');
    return `<g class="series ${key}"><polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>${dots}</g>`;
  };
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  return `<svg class="chart" role="img" aria-label="Grants and withdrawals per UTC day, ${escapeHtml(first)} to ${escapeHtml(last)}" viewBox="0 0 ${String(W)} ${String(H)}" width="${String(W)}" height="${String(H)}" xmlns="http://www.w3.org/2000/svg">
<line x1="${String(PAD.left)}" y1="${String(H - PAD.bottom)}" x2="${String(W - PAD.right)}" y2="${String(H - PAD.bottom)}" stroke="#999"/>
<line x1="${String(PAD.left)}" y1="${String(PAD.top)}" x2="${String(PAD.left)}" y2="${String(H - PAD.bottom)}" stroke="#999"/>
<text x="${String(PAD.left - 6)}" y="${String(PAD.top + 4)}" text-anchor="end" font-size="11">${String(max)}</text>
<text x="${String(PAD.left - 6)}" y="${String(H - PAD.bottom + 4)}" text-anchor="end" font-size="11">0</text>
<text x="${String(PAD.left)}" y="${String(H - 10)}" font-size="11">${escapeHtml(first)}</text>
<text x="${String(W - PAD.right)}" y="${String(H - 10)}" text-anchor="end" font-size="11">${escapeHtml(last)}</text>
${series('grants', '#1a7f37')}${series('withdrawals', '#cf222e')}
</svg>`;
}
