import type { ConsentEngine } from '../../core/engine';
import { verifyFor } from '../../core/proof';
import { fill, type Messages } from '../../i18n/catalog';
import { html, type SafeHtml } from '../../pages/html';
import { timeElement } from '../../pages/time';
import { normalizeSubject, reservedSubject } from '../../core/input';
import { cell, codeWords, FREE, headRow, wide } from './console-page';

const HISTORY_LIMIT = 200;

/**
 * The lookup form, with `error` said beside the field (and the id kept to correct it). The
 * limit counts UTF-16 units, as `maxlength` does: 256 characters may take 512.
 */
function form(value: string, w: Messages, error: string | null = null): SafeHtml {
  const invalid = error === null ? null : html` aria-invalid="true" aria-describedby="subject-id-error"`;
  return html`<form method="get" action="subject"><p><label for="subject-id">${w['console.subjectId']}</label> <input id="subject-id" name="id" value="${value}" required maxlength="512"${invalid}> <button type="submit">${w['console.lookUp']}</button></p>${error === null ? null : html`
<p id="subject-id-error" class="ec-alert" role="alert">${error}</p>`}</form>`;
}

/** A subject lookup page and its status (400 for an id the library does not take). */
export interface SubjectPage {
  status: number;
  body: SafeHtml;
}

/**
 * The subject lookup, in the console's words `w` (dates in their language `lang`): the form,
 * and for an id (`?id=` as given) its states, chain verification and history. An id the library
 * does not take is said beside the form, not on a page without it.
 */
export async function subjectPage(engine: ConsentEngine, given: unknown, w: Messages, lang = 'en'): Promise<SubjectPage> {
  const when = (iso: string | null) => (iso ? timeElement(iso, 'short', lang) : '—');
  if (given === undefined || given === '') return { status: 200, body: form('', w) };
  const id = typeof given === 'string' ? normalizeSubject(given) : null;
  if (id === null || reservedSubject(id) !== null) return { status: 400, body: form(typeof given === 'string' ? given : '', w, w['console.badId']) };
  const history = await engine.history(id, { limit: HISTORY_LIMIT });
  if (history.events.length === 0) {
    return { status: 200, body: html`${form(id, w)}
<p class="no-record ec-alert" role="status">${w['console.noRecord']}</p>` };
  }
  const states = await engine.states(id);
  const verified = await verifyFor(engine, engine.pseudonym(id));
  const stateRows = Object.values(states).map((s) =>
    html`<tr data-requirement="${s.id}">${cell(w['console.requirement'], s.id, FREE)}${cell(w['console.state'], codeWords(w, 'state', s.state), 'state')}${cell(w['console.allowed'], s.allowed ? w['console.yes'] : w['console.no'])}${cell(w['console.version'], s.version ?? '—')}${cell(w['console.decided'], when(s.decidedAt))}${cell(w['console.expires'], when(s.expiresAt))}</tr>`);
  const eventRows = history.events.map((ev) =>
    html`<tr>${cell(w['console.at'], when(ev.at))}${cell(w['console.requirement'], ev.requirement, FREE)}${cell(w['console.version'], ev.version, 'ec-n')}${cell(w['console.action'], codeWords(w, 'action', ev.action))}${cell(w['console.state'], codeWords(w, 'state', ev.state))}${cell(w['console.source'], codeWords(w, 'source', ev.source))}${cell(w['console.actor'], ev.actor ?? '—', FREE)}${cell(w['console.context'], ev.context ?? '—', FREE)}${cell(w['console.note'], ev.note ?? '—', FREE)}</tr>`);
  const verdict: SafeHtml = verified.ok
    ? html`<p class="verify ok ec-status">${fill(w['console.verified'], { checked: verified.checked })}</p>`
    : html`<div class="verify bad ec-alert"><p>${fill(w['console.verifyFailed'], { count: verified.problems.length })}</p><ul>${verified.problems.map((p) => html`<li>${fill(w['console.problemAt'], { kind: p.kind, eventId: p.eventId })}</li>`)}</ul></div>`;
  const shown = history.nextCursor ? `${w['console.newestFirst']}, ${fill(w['console.latest'], { count: HISTORY_LIMIT })}` : w['console.newestFirst'];
  return { status: 200, body: html`${form(id, w)}
<p>${w['console.pseudonym']}: <code class="pseudonym">${engine.pseudonym(id)}</code></p>
${verdict}
<h2 id="states-title">${w['console.states']}</h2>${wide('states-title', html`<table class="states ec-stack">${headRow([w['console.requirement'], w['console.state'], w['console.allowed'], w['console.version'], w['console.decided'], w['console.expires']])}<tbody>${stateRows}</tbody></table>`)}
<h2 id="history-title">${w['console.history']} <small>(${shown})</small></h2>
${wide('history-title', html`<table class="history ec-stack">${headRow([w['console.at'], w['console.requirement'], w['console.version'], w['console.action'], w['console.state'], w['console.source'], w['console.actor'], w['console.context'], w['console.note']], [2])}<tbody>${eventRows}</tbody></table>`)}` };
}
