import type { Request } from 'express';
import { html } from '../html';
import { page } from '../layout';

/**
 * The staff form that finds a person's consent records by email: `email` is the address just
 * looked for ('' for none), `refused` why the form was refused (none when the address was
 * looked for in vain).
 */
export function staffFindPage(req: Request, email: string, refused?: string): string {
  const alert = refused ?? (email === '' ? null : `No account uses ${email}.`);
  return page(req, 'Find a person’s consent records', html`
    <h1>Find a person’s consent records</h1>
    <p>The consent console finds people by their account number, which their privacy preferences
      page shows them. When someone writes from their email address instead, start here.</p>
    ${alert === null ? null : html`<p class="notice notice-alert" role="alert">${alert}</p>`}
    <form method="post" action="/staff/find">
      <input type="hidden" name="_csrf" value="${req.session.csrf}">
      <p><label for="email">Email address</label>
        <input id="email" name="email" type="email" autocomplete="off" required value="${email}"></p>
      <p><button type="submit">Find</button></p>
    </form>
    <p><a href="/consent/admin/console/">Consent console</a></p>`);
}
