import type { AdminStats, DayCount } from '../../core/admin-stats';
import { STATES } from '../../vocabulary';
import { html, type SafeHtml } from '../../pages/html';
import { timeElement } from '../../pages/time';
import type { StoredRequirementVersion } from '../../tracker/records';
import type { LocalizedText, Requirement } from '../../types';
import { textOfVersion } from '../../registry/text';
import { fill, type Messages } from '../../i18n/catalog';
import { localeOf, shownIn } from '../../i18n/localize';
import { lookup } from '../../i18n/negotiate';
import { cell, FREE, headRow, wordFor } from './console-page';
import { dailyChart, dailyTable } from './svg-chart';

/** What the overview shows; `stats` and `days` are null without the tracker's admin capability. */
export interface OverviewData {
  requirements: readonly Requirement[];
  /** Versions registered to become current later, by requirement id, oldest first. */
  upcoming: ReadonlyMap<string, readonly Requirement[]>;
  /** The console's words, and their language (for dates). */
  words: Messages;
  lang: string;
  versions: StoredRequirementVersion[];
  stats: AdminStats | null;
  days: DayCount[] | null;
}

/** A text in `locale`, marked so where that is not the page's language (`lang`): read out in its own. */
const inLocale = (locale: string, lang: string, text: SafeHtml): SafeHtml => (locale === lang ? text : html`<div lang="${locale}">${text}</div>`);

/** A stored version's text in the console's language where it has one, else in its default one. */
function versionText(v: StoredRequirementVersion, lang: string): LocalizedText & { locale: string } {
  const { defaultLocale, texts } = textOfVersion(v);
  const locale = lookup([lang], Object.keys(texts)) ?? defaultLocale;
  return { ...(texts[locale] ?? (texts[defaultLocale] as LocalizedText)), locale };
}

function versionsTable(versions: StoredRequirementVersion[], w: Messages, lang: string): SafeHtml {
  const rows = [...versions].reverse().map((v) => {
    const text = versionText(v, lang);
    return html`<tr>${cell(w['console.version'], v.version, 'ec-n')}${cell(w['console.stored'], timeElement(new Date(v.createdAt).toISOString(), 'short', lang))}
${cell(w['console.text'], inLocale(text.locale, lang, html`<details><summary>${text.title}</summary><p>${text.description}</p>${text.url ? html`<p>${text.url}</p>` : null}</details>`), FREE)}
${cell(w['console.lawfulBasis'], basisWords(v.lawfulBasis, w))}${cell(w['console.textHash'], html`<code>${v.textHash.slice(0, 16)}…</code>`)}</tr>`;
  });
  return html`<table class="versions ec-stack"><caption>${w['console.versions']}</caption>${headRow([w['console.version'], w['console.stored'], w['console.text'], w['console.lawfulBasis'], w['console.textHash']], [0])}<tbody>${rows}</tbody></table>`;
}

/** Versions registered ahead: when each becomes current, and its text. */
function upcomingTable(upcoming: readonly Requirement[] | undefined, words: Messages, lang: string): SafeHtml | null {
  if (!upcoming || upcoming.length === 0) return null;
  const rows = upcoming.map((v) => {
    const shown = shownIn(v, localeOf(v, [lang]));
    return html`<tr>${cell(words['console.version'], v.version, 'ec-n')}${cell(words['console.effectiveFrom'], timeElement(v.effectiveFrom as string, 'short', lang))}
${cell(words['console.text'], inLocale(shown.locale, lang, html`<details><summary>${shown.title}</summary><p>${shown.description}</p></details>`), FREE)}</tr>`;
  });
  return html`<table class="upcoming ec-stack"><caption>${words['console.upcoming']}</caption>${headRow([words['console.version'], words['console.effectiveFrom'], words['console.text']], [0])}<tbody>${rows}</tbody></table>`;
}

/** A lawful basis in the console's words (the code itself for one the catalog lacks). */
function basisWords(basis: string, w: Messages): string {
  return wordFor(w, `basis.${basis}`, basis.replace(/_/g, ' '));
}

const stateWord = (w: Messages, state: string): string => wordFor(w, `console.state.${state}`, state);

function countsTable(stats: AdminStats, id: string, w: Messages): SafeHtml | null {
  const requirement = stats.requirements[id];
  if (!requirement) return null;
  const row = (label: string, counts: Partial<Record<string, number>>, cls: string) =>
    html`<tr class="${cls}">${cell(w['console.versionDecided'], label)}${STATES.map((s) => html`<td class="ec-n" data-label="${stateWord(w, s)}" data-state="${s}">${counts[s] ?? 0}</td>`)}</tr>`;
  const versions = Object.entries(requirement.versions)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([version, counts]) => row(`v${version}`, counts, `v-${version}`));
  // Subjects with no decision on the requirement have no version: their own row.
  const never = requirement.states.unset > 0 ? row(w['console.neverDecided'], { unset: requirement.states.unset }, 'v-none') : null;
  return html`<table class="counts ec-stack" data-requirement="${id}"><caption>${w['console.byState']}</caption>${headRow([w['console.versionDecided'], ...STATES.map((s) => stateWord(w, s))], STATES.map((_, i) => i + 1))}<tbody>${versions}${never}${row(w['console.allSubjects'], requirement.states, 'total')}</tbody></table>`;
}


/** A requirement's title in the console's language where it has one, else in its default one, marked so. */
function titleIn(r: Requirement, lang: string): SafeHtml | string {
  const shown = shownIn(r, localeOf(r, [lang]));
  return shown.locale === lang ? shown.title : html`<span lang="${shown.locale}">${shown.title}</span>`;
}

/** The overview: requirements with version history and counts, the daily chart, exports. */
export function overviewPage(data: OverviewData): SafeHtml {
  const { stats, days, words: w } = data;
  const sections = data.requirements.map((r) => html`<section class="requirement" id="req-${r.id}" aria-labelledby="req-title-${r.id}"><h2 id="req-title-${r.id}">${titleIn(r, data.lang)} <small>${fill(w['console.idVersion'], { id: r.id, version: r.version })}</small></h2>
${upcomingTable(data.upcoming.get(r.id), w, data.lang)}${versionsTable(data.versions.filter((v) => v.id === r.id), w, data.lang)}${stats ? countsTable(stats, r.id, w) : null}</section>`);
  if (!stats || !days) return html`<p class="notice">${w['console.noAdmin']}</p>\n${sections}`;
  return html`<p>${w['console.subjects']}: <strong class="subjects">${stats.subjects}</strong></p>
<h2>${fill(w['console.perDay'], { days: days.length })}</h2>
<div class="ec-chart">${dailyChart(days, w)}</div><p class="legend ec-legend"><span class="ec-ok">● ${w['console.grants']}</span><span class="ec-bad">■ ${w['console.withdrawals']}</span></p>
${dailyTable(days, w)}
<p class="exports">${w['console.exportAll']} <a href="export?format=csv">CSV</a> <a href="export?format=ndjson">NDJSON</a></p>
${sections}`;
}
