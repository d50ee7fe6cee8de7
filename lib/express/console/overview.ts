import type { ConsentEngine } from '../../core/engine';
import { storeCall } from '../../core/store-call';
import type { Knex } from 'knex';
import { dailyCounts } from '../../ops/daily';
import { collectStats, STATES, type ConsentStats } from '../../ops/stats';
import type { StoredRequirementVersion } from '../../tracker/records';
import { escapeHtml as e } from '../escape-html';
import { dailyChart } from './svg-chart';

const STATS_TIMEOUT_MS = 30_000;

function versionsTable(versions: StoredRequirementVersion[]): string {
  const rows = [...versions].reverse().map((v) => `<tr><td class="n">${v.version}</td><td>${e(new Date(v.createdAt).toISOString())}</td>
<td><details><summary>${e(v.title)}</summary><p>${e(v.description)}</p>${v.url ? `<p>${e(v.url)}</p>` : ''}</details></td>
<td>${e(v.lawfulBasis)}</td><td><code>${e(v.textHash.slice(0, 16))}…</code></td></tr>`);
  return `<table class="versions"><tr><th>Version</th><th>Stored</th><th>Text</th><th>Lawful basis</th><th>Text hash</th></tr>${rows.join('')}</table>`;
}

function countsTable(stats: ConsentStats, id: string): string {
  const requirement = stats.requirements.find((r) => r.id === id);
  if (!requirement) return '';
  const head = `<tr><th>Version decided</th>${STATES.map((s) => `<th>${s}</th>`).join('')}</tr>`;
  const row = (label: string, counts: Record<string, number>, cls: string) =>
    `<tr class="${cls}"><td>${e(label)}</td>${STATES.map((s) => `<td class="n" data-state="${s}">${counts[s]}</td>`).join('')}</tr>`;
  const rows = requirement.versions.map((v) => row(v.version === null ? 'never decided' : `v${v.version}`, v.counts, `v-${v.version ?? 'none'}`));
  return `<table class="counts" data-requirement="${e(id)}">${head}${rows.join('')}${row('all subjects', requirement.total, 'total')}</table>`;
}

/** The overview: requirements with version history and counts, the daily chart, exports. */
export async function overviewPage(engine: ConsentEngine, knex: Knex | null): Promise<string> {
  const requirements = engine.registry.list();
  const ms = engine.options.storeTimeoutMs;
  const versions = await storeCall(ms, 'requirement read', () => engine.tracker.requirementVersions(requirements.map((r) => r.id)));
  const prefix = engine.options.tablePrefix;
  const now = engine.now();
  const stats = knex ? await storeCall(STATS_TIMEOUT_MS, 'stats read', () => collectStats(knex, prefix, requirements, now)) : null;
  const days = knex ? await storeCall(STATS_TIMEOUT_MS, 'stats read', () => dailyCounts(knex, prefix, now)) : null;
  const sections = requirements.map((r) => `<section class="requirement" id="req-${e(r.id)}"><h2>${e(r.id)} <small>v${r.version}</small></h2>
${versionsTable(versions.filter((v) => v.id === r.id))}${stats ? countsTable(stats, r.id) : ''}</section>`);
  const unavailable = '<p class="notice">Statistics, the chart and exports read the Knex tracker directly; this instance uses another tracker.</p>';
  return `${stats ? `<p>Subjects: <strong class="subjects">${stats.subjects}</strong></p>` : unavailable}
<h2>Grants and withdrawals per UTC day (last 30 days)</h2>
${days ? `${dailyChart(days)}<p class="legend"><span class="ok">● grants</span><span class="bad">● withdrawals</span></p>` : ''}
${knex ? '<p class="exports">Export every event: <a href="export?format=csv">CSV</a> <a href="export?format=ndjson">NDJSON</a></p>' : ''}
${sections.join('\n')}`;
}
