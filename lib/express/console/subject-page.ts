import type { ConsentEngine } from '../../core/engine';
import { verifyFor } from '../../core/proof';
import type { StateInfo } from '../../types';
import { escapeHtml as e } from '../escape-html';

const FORM = (value: string) => `<form method="get" action="subject"><label>Subject id <input name="id" value="${e(value)}" required maxlength="256"></label> <button type="submit">Look up</button></form>`;

/** The subject lookup: the form, and for an id its states, chain verification and history. */
export async function subjectPage(engine: ConsentEngine, id: string | undefined): Promise<string> {
  if (id === undefined || id === '') return FORM('');
  const states = await engine.states(id);
  const history = await engine.history(id, { limit: 200 });
  const verified = await verifyFor(engine, engine.pseudonym(id));
  const stateRows = Object.values(states).map((s: StateInfo) =>
    `<tr data-requirement="${e(s.id)}"><td>${e(s.id)}</td><td class="state">${e(s.state)}</td><td>${s.allowed ? 'yes' : 'no'}</td><td>${String(s.version ?? '')}</td><td>${e(s.decidedAt ?? '')}</td><td>${e(s.expiresAt ?? '')}</td></tr>`);
  const eventRows = history.events.map((ev) =>
    `<tr><td>${e(ev.at)}</td><td>${e(ev.requirement)}</td><td class="n">${String(ev.version)}</td><td>${e(ev.action)}</td><td>${e(ev.state)}</td><td>${e(ev.source)}</td><td>${e(ev.actor ?? '')}</td><td>${e(ev.context ?? '')}</td><td>${e(ev.note ?? '')}</td></tr>`);
  const verdict = verified.ok
    ? `<p class="verify ok">Chain verified: ${String(verified.checked)} events, no problems.</p>`
    : `<div class="verify bad"><p>Chain verification failed (${String(verified.problems.length)} problems):</p><ul>${verified.problems.map((p) => `<li>${e(p.kind)} at event ${e(p.eventId)}</li>`).join('')}</ul></div>`;
  return `${FORM(id)}
<p>Pseudonym: <code class="pseudonym">${e(engine.pseudonym(id))}</code></p>
${verdict}
<h2>States</h2><table class="states"><tr><th>Requirement</th><th>State</th><th>Allowed</th><th>Version</th><th>Decided</th><th>Expires</th></tr>${stateRows.join('')}</table>
<h2>History <small>(newest first${history.nextCursor ? ', latest 200' : ''})</small></h2>
<table class="history"><tr><th>At</th><th>Requirement</th><th>Version</th><th>Action</th><th>State</th><th>Source</th><th>Actor</th><th>Context</th><th>Note</th></tr>${eventRows.join('')}</table>`;
}
