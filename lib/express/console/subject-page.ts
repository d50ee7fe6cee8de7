import type { ConsentEngine } from '../../core/engine';
import { verifyFor } from '../../core/proof';
import { html, type SafeHtml } from '../../pages/html';
import { timeElement } from '../../pages/time';
import { cell, headRow } from './console-page';

const form = (value: string) => html`<form method="get" action="subject"><p><label for="subject-id">Subject id</label> <input id="subject-id" name="id" value="${value}" required maxlength="256"> <button type="submit">Look up</button></p></form>`;

const when = (iso: string | null) => (iso ? timeElement(iso) : '—');

/** The subject lookup: the form, and for an id its states, chain verification and history. */
export async function subjectPage(engine: ConsentEngine, id: string | undefined): Promise<SafeHtml> {
  if (id === undefined || id === '') return form('');
  const history = await engine.history(id, { limit: 200 });
  if (history.events.length === 0) {
    return html`${form(id)}
<p class="no-record ec-alert" role="status">No record of this subject: nothing was ever decided under this id, or its records were erased.</p>`;
  }
  const states = await engine.states(id);
  const verified = await verifyFor(engine, engine.pseudonym(id));
  const stateRows = Object.values(states).map((s) =>
    html`<tr data-requirement="${s.id}">${cell('Requirement', s.id)}${cell('State', s.state, 'state')}${cell('Allowed', s.allowed ? 'yes' : 'no')}${cell('Version', s.version ?? '—')}${cell('Decided', when(s.decidedAt))}${cell('Expires', when(s.expiresAt))}</tr>`);
  const eventRows = history.events.map((ev) =>
    html`<tr>${cell('At', timeElement(ev.at))}${cell('Requirement', ev.requirement)}${cell('Version', ev.version, 'ec-n')}${cell('Action', ev.action)}${cell('State', ev.state)}${cell('Source', ev.source)}${cell('Actor', ev.actor ?? '—')}${cell('Note', ev.note ?? '—')}</tr>`);
  const verdict: SafeHtml = verified.ok
    ? html`<p class="verify ok ec-status">Chain verified: ${verified.checked} events, no problems.</p>`
    : html`<div class="verify bad ec-alert"><p>Chain verification failed (${verified.problems.length} problems):</p><ul>${verified.problems.map((p) => html`<li>${p.kind} at event ${p.eventId}</li>`)}</ul></div>`;
  return html`${form(id)}
<p>Pseudonym: <code class="pseudonym">${engine.pseudonym(id)}</code></p>
${verdict}
<h2>States</h2><table class="states ec-stack">${headRow(['Requirement', 'State', 'Allowed', 'Version', 'Decided', 'Expires'])}<tbody>${stateRows}</tbody></table>
<h2>History <small>(newest first${history.nextCursor ? ', latest 200' : ''})</small></h2>
<table class="history ec-stack">${headRow(['At', 'Requirement', 'Version', 'Action', 'State', 'Source', 'Actor', 'Note'])}<tbody>${eventRows}</tbody></table>`;
}
