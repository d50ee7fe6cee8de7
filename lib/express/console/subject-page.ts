import type { ConsentEngine } from '../../core/engine';
import { verifyFor } from '../../core/proof';
import { fill, type Messages } from '../../i18n/catalog';
import { html, type SafeHtml } from '../../pages/html';
import { timeElement } from '../../pages/time';
import { cell, codeWords, headRow } from './console-page';

const HISTORY_LIMIT = 200;

const form = (value: string, w: Messages) => html`<form method="get" action="subject"><p><label for="subject-id">${w['console.subjectId']}</label> <input id="subject-id" name="id" value="${value}" required maxlength="512"> <button type="submit">${w['console.lookUp']}</button></p></form>`;

/**
 * The subject lookup, in the console's words `w` (dates in their language `lang`): the form,
 * and for an id its states, chain verification and history.
 */
export async function subjectPage(engine: ConsentEngine, id: string | undefined, w: Messages, lang = 'en'): Promise<SafeHtml> {
  const when = (iso: string | null) => (iso ? timeElement(iso, 'short', lang) : '—');
  if (id === undefined || id === '') return form('', w);
  const history = await engine.history(id, { limit: HISTORY_LIMIT });
  if (history.events.length === 0) {
    return html`${form(id, w)}
<p class="no-record ec-alert" role="status">${w['console.noRecord']}</p>`;
  }
  const states = await engine.states(id);
  const verified = await verifyFor(engine, engine.pseudonym(id));
  const stateRows = Object.values(states).map((s) =>
    html`<tr data-requirement="${s.id}">${cell(w['console.requirement'], s.id)}${cell(w['console.state'], codeWords(w, 'state', s.state), 'state')}${cell(w['console.allowed'], s.allowed ? w['console.yes'] : w['console.no'])}${cell(w['console.version'], s.version ?? '—')}${cell(w['console.decided'], when(s.decidedAt))}${cell(w['console.expires'], when(s.expiresAt))}</tr>`);
  const eventRows = history.events.map((ev) =>
    html`<tr>${cell(w['console.at'], when(ev.at))}${cell(w['console.requirement'], ev.requirement)}${cell(w['console.version'], ev.version, 'ec-n')}${cell(w['console.action'], codeWords(w, 'action', ev.action))}${cell(w['console.state'], codeWords(w, 'state', ev.state))}${cell(w['console.source'], codeWords(w, 'source', ev.source))}${cell(w['console.actor'], ev.actor ?? '—')}${cell(w['console.context'], ev.context ?? '—')}${cell(w['console.note'], ev.note ?? '—')}</tr>`);
  const verdict: SafeHtml = verified.ok
    ? html`<p class="verify ok ec-status">${fill(w['console.verified'], { checked: verified.checked })}</p>`
    : html`<div class="verify bad ec-alert"><p>${fill(w['console.verifyFailed'], { count: verified.problems.length })}</p><ul>${verified.problems.map((p) => html`<li>${fill(w['console.problemAt'], { kind: p.kind, eventId: p.eventId })}</li>`)}</ul></div>`;
  const shown = history.nextCursor ? `${w['console.newestFirst']}, ${fill(w['console.latest'], { count: HISTORY_LIMIT })}` : w['console.newestFirst'];
  return html`${form(id, w)}
<p>${w['console.pseudonym']}: <code class="pseudonym">${engine.pseudonym(id)}</code></p>
${verdict}
<h2>${w['console.states']}</h2><table class="states ec-stack">${headRow([w['console.requirement'], w['console.state'], w['console.allowed'], w['console.version'], w['console.decided'], w['console.expires']])}<tbody>${stateRows}</tbody></table>
<h2>${w['console.history']} <small>(${shown})</small></h2>
<table class="history ec-stack">${headRow([w['console.at'], w['console.requirement'], w['console.version'], w['console.action'], w['console.state'], w['console.source'], w['console.actor'], w['console.context'], w['console.note']])}<tbody>${eventRows}</tbody></table>`;
}
