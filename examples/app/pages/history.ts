import type { Action, HistoryPage, Requirement, Source } from '../../../lib/index';
import { html, type SafeHtml } from '../html';

const ACTIONS: Record<Action, string> = {
  grant: 'Granted',
  deny: 'Denied',
  withdraw: 'Withdrawn',
  request: 'Asked to confirm by email',
  confirm: 'Confirmed by email',
  expire: 'Expired',
  erase: 'Erased',
};

const SOURCES: Record<Source, string> = {
  api: 'On our site',
  form: 'On our site',
  app: 'By our service',
  admin: 'By our staff',
  gpc: 'Your browser’s privacy signal',
  sweep: 'When it ran out',
  import: 'From our earlier records',
  confirm: 'Through the link in our email',
  link: 'Your choices before you signed in',
};

/** The person's own history, newest first, with a link to older entries. */
export function historySection(history: HistoryPage, requirements: Requirement[]): SafeHtml {
  const titles = new Map(requirements.map((r) => [r.id, r.title]));
  const rows = history.events.map(
    (e) => html`
      <tr>
        <td data-label="When"><time datetime="${e.at}">${e.at.slice(0, 16).replace('T', ' ')} UTC</time></td>
        <td data-label="What">${titles.get(e.requirement) ?? e.requirement}</td>
        <td data-label="Answer">${ACTIONS[e.action]}</td>
        <td data-label="How">${SOURCES[e.source]}</td>
      </tr>`,
  );
  return html`
    <section id="history" aria-labelledby="history-title">
      <h2 id="history-title">Your history</h2>
      ${history.events.length === 0
        ? html`<p>You have not made any decision yet.</p>`
        : html`
      <table class="stack">
        <caption>Every decision you made, newest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Answer</th><th scope="col">How</th></tr></thead>
        <tbody>${rows}</tbody>
      </table>`}
      ${history.nextCursor ? html`<p><a href="/preferences?cursor=${encodeURIComponent(history.nextCursor)}#history">Older entries</a></p>` : null}
    </section>`;
}
