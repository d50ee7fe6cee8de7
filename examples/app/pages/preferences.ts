import type { Request } from 'express';
import type { Action, HistoryPage, Requirement, State, StateInfo } from '../../../lib/index';
import { html, type SafeHtml } from '../html';
import { page } from '../layout';
import { historySection } from './history';

/** Words for each state, for people rather than programs. */
export const STATE_LABELS: Record<State, string> = {
  unset: 'Not answered yet',
  granted: 'Granted',
  denied: 'Denied',
  pending: 'Waiting for you to confirm by email',
  expired: 'Expired: please answer again',
  outdated: 'The text changed: please answer again',
};

/** The answer shown on a card: a denial that ended a consent is a withdrawal. */
export function answerLabel(state: State, lastAction: Action | null): string {
  return state === 'denied' && lastAction === 'withdraw' ? 'Withdrawn' : STATE_LABELS[state];
}

/** Names of the guarded pages, to say where the person was going. */
const PAGE_NAMES: Record<string, string> = { '/insights': 'Reading insights', '/offers': 'Partner offers' };

/** Where a guard sent the person from, and what it needs. */
export interface Detour {
  /** The local path to go back to. */
  next: string;
  /** The requirement the page needs. */
  needs: Requirement | null;
}

/** What the preference page shows besides the requirements. */
export interface PreferencesView {
  requirements: Requirement[];
  states: Record<string, StateInfo>;
  /** The latest action on each requirement (to tell a withdrawal from a denial). */
  lastActions: Record<string, Action | null>;
  history: HistoryPage;
  detour: Detour | null;
  /** The requirement just answered: its card says so, and offers the way back. */
  updated: string | null;
  /** A sentence for the whole page (welcome, an error). */
  notice: { kind: 'status' | 'alert'; text: string } | null;
}

function when(iso: string | null): SafeHtml | string {
  return iso ? html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>` : '';
}

const button = (decision: 'granted' | 'denied', label: string) =>
  html`<button type="submit" class="choice" name="decision" value="${decision}">${label}</button>`;

/** The controls of a card; null where a choice means nothing (contract and other bases). */
function controls(requirement: Requirement, state: State): SafeHtml | null {
  if (requirement.lawfulBasis === 'legitimate_interests') {
    return state === 'denied' ? button('granted', 'Allow again') : button('denied', 'Object');
  }
  if (requirement.lawfulBasis !== 'consent') return state === 'granted' ? null : button('granted', 'Accept');
  if (state === 'granted') return button('denied', 'Withdraw');
  if (state === 'pending') return button('denied', 'Cancel request');
  if (state === 'denied') return button('granted', 'Grant');
  return html`${button('granted', 'Grant')} ${button('denied', 'Deny')}`;
}

function explanation(requirement: Requirement, state: State): SafeHtml | null {
  if (requirement.lawfulBasis !== 'consent' && requirement.lawfulBasis !== 'legitimate_interests') {
    return html`<p class="basis">This is part of our agreement with you, so it cannot be withdrawn on its own.
      If you no longer accept it, you can close your account at any time by writing to privacy@bookshelf.example.</p>`;
  }
  if (state === 'pending') {
    return html`<p class="basis">We sent you an email: follow its link to confirm. (This example shows it in the
      <a href="/dev/mailbox">development mailbox</a>.)</p>`;
  }
  return null;
}

function saved(view: PreferencesView, requirement: Requirement, info: StateInfo): SafeHtml | null {
  if (view.updated !== requirement.id) return null;
  const back = view.detour?.needs?.id === requirement.id && info.allowed
    ? html` <a href="${view.detour.next}">Continue to ${PAGE_NAMES[view.detour.next] ?? 'the page you asked for'}</a>`
    : null;
  return html`<p class="saved notice" id="saved-${requirement.id}" role="status" tabindex="-1" autofocus>Saved: ${answerLabel(info.state, view.lastActions[requirement.id] ?? null)}.${back}</p>`;
}

function section(req: Request, view: PreferencesView, requirement: Requirement): SafeHtml {
  const id = requirement.id;
  const info = view.states[id] as StateInfo;
  const control = controls(requirement, info.state);
  // The requirement a guarded page needs: named, described, and focused when the page opens.
  const needed = view.detour?.needs?.id === id && !info.allowed;
  const pageName = view.detour ? PAGE_NAMES[view.detour.next] ?? 'The page you asked for' : '';
  return html`
    <section class="requirement${needed ? ' needed' : ''}" id="req-${id}" aria-labelledby="title-${id}" data-requirement="${id}"
      ${needed ? html`tabindex="-1" autofocus aria-describedby="needs-${id}"` : null}>
      <h2 id="title-${id}">${requirement.title}</h2>
      ${needed ? html`<p class="notice" id="needs-${id}">${pageName} needs your consent to this. Once you grant it, you can go back.</p>` : null}
      <p>${requirement.description}</p>
      ${requirement.url ? html`<p><a href="${requirement.url}">More about ${requirement.title.toLowerCase()}</a></p>` : null}
      <dl>
        <dt>Your answer</dt><dd class="state state-${info.state}" data-state="${info.state}">${answerLabel(info.state, view.lastActions[id] ?? null)}</dd>
        ${info.decidedAt ? html`<dt>Answered</dt><dd data-field="decidedAt">${when(info.decidedAt)}</dd>` : null}
        ${info.expiresAt ? html`<dt>${info.state === 'pending' ? 'Email link works until' : 'Lasts until'}</dt><dd data-field="expiresAt">${when(info.expiresAt)}</dd>` : null}
      </dl>
      ${explanation(requirement, info.state)}
      ${saved(view, requirement, info)}
      ${control ? html`<form method="post" action="/preferences/${id}" class="decide">
        <input type="hidden" name="_csrf" value="${req.session.csrf}">
        <input type="hidden" name="version" value="${requirement.version}">
        ${view.detour ? html`<input type="hidden" name="next" value="${view.detour.next}">` : null}
        ${view.detour?.needs ? html`<input type="hidden" name="needs" value="${view.detour.needs.id}">` : null}
        <fieldset class="decision">
          <legend>Your decision on ${requirement.title}</legend>
          <div class="choices">${control}</div>
        </fieldset>
      </form>` : null}
    </section>`;
}

/** The person's records to download, and the account number our staff find them by. */
const records = (accountId: string) => html`
    <section id="records" aria-labelledby="records-title">
      <h2 id="records-title">Your records</h2>
      <p>Your account number is <code class="account-id">${accountId}</code>. Quote it when you write
        to us about your data: our staff find your records with it.</p>
      <ul>
        <li><a href="/consent/me/receipt" download>Download your consent receipt</a>: your current answers, signed by us (JSON).</li>
        <li><a href="/consent/me/export" download>Download everything we keep about your choices</a> (JSON).</li>
      </ul>
    </section>`;

/** The preference center: every requirement with its text, state, decision buttons and history. */
export function preferencesPage(req: Request, view: PreferencesView): string {
  const need = view.detour?.needs;
  let guarded: SafeHtml | null = null;
  if (view.detour && !need) {
    guarded = html`<p class="notice">Once you have answered, <a href="${view.detour.next}">go back to the page you asked for</a>.</p>`;
  } else if (view.detour && need && !(view.states[need.id] as StateInfo).allowed) {
    guarded = html`<p class="notice">${PAGE_NAMES[view.detour.next] ?? 'The page you asked for'} needs your consent to
        <a href="#req-${need.id}">${need.title}</a>.</p>`;
  }
  return page(req, 'Privacy preferences', html`
    <h1>Privacy preferences</h1>
    <p>Here is everything we ask you, what you answered and when. Change any answer at any time;
      it takes effect on your very next request.</p>
    <div id="notice" role="${view.notice?.kind ?? 'status'}" class="${view.notice ? `notice notice-${view.notice.kind}` : ''}">${view.notice?.text ?? ''}</div>
    ${guarded}
    ${view.requirements.map((r) => section(req, view, r))}
    ${records(req.session.userId ?? '')}
    ${historySection(view.history, view.requirements)}`, { script: 'preferences.js' });
}
