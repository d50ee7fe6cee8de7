import type { Action, HistoryPage, Requirement, Source } from '../../../lib/index';
import { html, type SafeHtml } from '../html';

const ACTIONS: Record<Action, string> = {
  grant: 'Granted',
  deny: 'Denied',
  withdraw: 'Withdrew consent',
  request: 'Asked to confirm by email',
  confirm: 'Confirmed',
  expire: 'Expired',
  erase: 'Erased',
};

const SOURCES: Record<Source, string> = {
  api: 'this page (script)',
  form: 'a form',
  app: 'the application',
  admin: 'an administrator',
  gpc: 'your browser’s privacy signal',
  sweep: 'automatic expiry',
  import: 'an import',
  confirm: 'an email confirmation',
  link: 'your choices before you signed in',
};

/** The person's own history, newest first, with a link to older entries. */
export function historySection(history: HistoryPage, requirements: Requirement[]): SafeHtml {
  const titles = new Map(requirements.map((r) => [r.id, r.title]));
  const rows = history.events.map(
    (e) => html`
      <tr>
        <td><time datetime="${e.at}">${e.at.slice(0, 19).replace('T', ' ')} UTC</time></td>
        <td>${titles.get(e.requirement) ?? e.requirement}</td>
        <td>${ACTIONS[e.action]}</td>
        <td>${e.version}</td>
        <td>${SOURCES[e.source]}</td>
      </tr>`,
  );
  return html`
    <section id="history" aria-labelledby="history-title">
      <h2 id="history-title">Your history</h2>
      ${history.events.length === 0
        ? html`<p>You have not made any decision yet.</p>`
        : html`
      <table>
        <caption>Every decision you made, newest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Action</th><th scope="col">Text version</th><th scope="col">Through</th></tr></thead>
        <tbody>${rows}</tbody>
      </table>`}
      ${history.nextCursor ? html`<p><a href="/preferences?cursor=${encodeURIComponent(history.nextCursor)}#history">Older entries</a></p>` : null}
    </section>`;
}
