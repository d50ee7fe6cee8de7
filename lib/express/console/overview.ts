import { STATES, type AdminStats, type DayCount } from '../../core/admin-stats';
import type { StoredRequirementVersion } from '../../tracker/records';
import type { Requirement } from '../../types';
import { escapeHtml as e } from '../escape-html';
import { dailyChart } from './svg-chart';

/** What the overview shows; `stats` and `days` are null without the tracker's admin capability. */
export interface OverviewData {
  requirements: readonly Requirement[];
  versions: StoredRequirementVersion[];
  stats: AdminStats | null;
  days: DayCount[] | null;
}

function versionsTable(versions: StoredRequirementVersion[]): string {
  const rows = [...versions].reverse().map((v) => `<tr><td class="n">${String(v.version)}</td><td>${e(new Date(v.createdAt).toISOString())}</td>
<td><details><summary>${e(v.title)}</summary><p>${e(v.description)}</p>${v.url ? `<p>${e(v.url)}</p>` : ''}</details></td>
<td>${e(v.lawfulBasis)}</td><td><code>${e(v.textHash.slice(0, 16))}…</code></td></tr>`);
  return `<table class="versions"><tr><th>Version</th><th>Stored</th><th>Text</th><th>Lawful basis</th><th>Text hash</th></tr>${rows.join('')}</table>`;
}

function countsTable(stats: AdminStats, id: string): string {
  const requirement = stats.requirements[id];
  if (!requirement) return '';
  const head = `<tr><th>Version decided</th>${STATES.map((s) => `<th>${s}</th>`).join('')}</tr>`;
  const row = (label: string, counts: Partial<Record<string, number>>, cls: string) =>
    `<tr class="${cls}"><td>${e(label)}</td>${STATES.map((s) => `<td class="n" data-state="${s}">${String(counts[s] ?? 0)}</td>`).join('')}</tr>`;
  const versions = Object.entries(requirement.versions)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([version, counts]) => row(`v${version}`, counts, `v-${e(version)}`));
  // Subjects with no decision on the requirement have no version: their own row.
  const never = requirement.states.unset > 0 ? row('never decided', { unset: requirement.states.unset }, 'v-none') : '';
  return `<table class="counts" data-requirement="${e(id)}">${head}${versions.join('')}${never}${row('all subjects', requirement.states, 'total')}</table>`;
}

const NO_ADMIN = '<p class="notice">Statistics, the chart and the exports need the tracker\'s admin capability, which this instance\'s tracker does not implement.</p>';

/** The overview: requirements with version history and counts, the daily chart, exports. */
export function overviewPage(data: OverviewData): string {
  const { stats, days } = data;
  const sections = data.requirements.map((r) => `<section class="requirement" id="req-${e(r.id)}"><h2>${e(r.id)} <small>v${String(r.version)}</small></h2>
${versionsTable(data.versions.filter((v) => v.id === r.id))}${stats ? countsTable(stats, r.id) : ''}</section>`);
  if (!stats || !days) return `${NO_ADMIN}\n${sections.join('\n')}`;
  return `<p>Subjects: <strong class="subjects">${String(stats.subjects)}</strong></p>
<h2>Grants and withdrawals per UTC day (last 30 days)</h2>
${dailyChart(days)}<p class="legend"><span class="ok">● grants</span><span class="bad">● withdrawals</span></p>
<p class="exports">Export every event: <a href="export?format=csv">CSV</a> <a href="export?format=ndjson">NDJSON</a></p>
${sections.join('\n')}`;
}
