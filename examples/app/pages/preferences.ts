import type { Request } from 'express';
import type { HistoryPage, Requirement, State, StateInfo } from '../../../lib/index';
import { html, type SafeHtml } from '../html';
import { page } from '../layout';
import { historySection } from './history';

/** Words for each state, for people rather than programs. */
export const STATE_LABELS: Record<State, string> = {
  unset: 'Not answered yet',
  granted: 'Granted',
  denied: 'Denied',
  pending: 'Waiting for your confirmation',
  expired: 'Expired: please answer again',
  outdated: 'The text changed: please answer again',
};

/** What the preference page shows besides the requirements. */
export interface PreferencesView {
  requirements: Requirement[];
  states: Record<string, StateInfo>;
  history: HistoryPage;
  /** A local path the person was sent away from by a guard. */
  next: string | null;
  /** A sentence confirming the last change, or an error. */
  notice: { kind: 'status' | 'alert'; text: string } | null;
}

function when(iso: string | null): SafeHtml | string {
  return iso ? html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>` : '—';
}

function buttons(state: State, basis: Requirement['lawfulBasis']): SafeHtml {
  if (state === 'granted' || state === 'pending') {
    return html`<button type="submit" name="decision" value="denied">${basis === 'consent' ? 'Withdraw consent' : 'Withdraw'}</button>`;
  }
  const grant = html`<button type="submit" name="decision" value="granted">Grant</button>`;
  return state === 'denied' ? grant : html`${grant} <button type="submit" name="decision" value="denied">Deny</button>`;
}

function section(req: Request, requirement: Requirement, info: StateInfo, next: string | null): SafeHtml {
  const id = requirement.id;
  return html`
    <section class="requirement" id="req-${id}" aria-labelledby="title-${id}" data-requirement="${id}">
      <h2 id="title-${id}">${requirement.title}</h2>
      <p>${requirement.description}</p>
      ${requirement.url ? html`<p><a href="${requirement.url}">More about ${requirement.title.toLowerCase()}</a></p>` : null}
      <dl>
        <dt>Your answer</dt><dd class="state state-${info.state}" data-state="${info.state}">${STATE_LABELS[info.state]}</dd>
        <dt>Decided</dt><dd data-field="decidedAt">${when(info.decidedAt)}</dd>
        <dt>Stops counting</dt><dd data-field="expiresAt">${when(info.expiresAt)}</dd>
        <dt>Lawful basis</dt><dd>${requirement.lawfulBasis.replace(/_/g, ' ')}${requirement.lawfulBasis === 'consent' ? '' : ' (your answer is kept as an acknowledgement)'}</dd>
        <dt>Text version</dt><dd>${requirement.version}</dd>
      </dl>
      <form method="post" action="/preferences/${id}" class="decide">
        <input type="hidden" name="_csrf" value="${req.session.csrf}">
        <input type="hidden" name="version" value="${requirement.version}">
        ${next ? html`<input type="hidden" name="next" value="${next}">` : null}
        <fieldset>
          <legend>Your decision on ${requirement.title}</legend>
          ${buttons(info.state, requirement.lawfulBasis)}
        </fieldset>
      </form>
    </section>`;
}

/** The preference center: every requirement with its text, state, decision buttons and history. */
export function preferencesPage(req: Request, view: PreferencesView): string {
  const guarded = view.next
    ? html`<p class="notice">The page you asked for, <a href="${view.next}">${view.next}</a>, needs your consent below.
        Once you have granted it, follow the link to go back.</p>`
    : null;
  return page(req, 'Privacy preferences', html`
    <h1>Privacy preferences</h1>
    <p>Here is everything we ask you, what you answered and when. Change any answer at any time;
      it takes effect on your very next request.</p>
    <div id="notice" role="${view.notice?.kind ?? 'status'}" class="${view.notice ? `notice notice-${view.notice.kind}` : ''}">${view.notice?.text ?? ''}</div>
    ${guarded}
    ${view.requirements.map((r) => section(req, r, view.states[r.id] as StateInfo, view.next))}
    ${historySection(view.history, view.requirements)}`, { script: 'preferences.js' });
}
