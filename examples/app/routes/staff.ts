import express, { type Express, type RequestHandler } from 'express';
import { handle } from '../async-handler';
import { staffFindPage } from '../pages/staff';
import { checkCsrf } from '../session';
import type { Users } from '../users';

/**
 * Staff find a person's consent records from the email address the person wrote from. The
 * consent console looks people up by the subject id the app gives the library, here the
 * account's id (a UUID nobody remembers), so the app maps its own key to it and sends staff
 * to the console's page for that subject. Behind the console's password (`challenge`). The
 * address is posted, not put in the URL, where access logs and the browser's history keep it.
 */
export function staffRoutes(app: Express, users: Users, challenge: RequestHandler): void {
  app.get('/staff/find', challenge, (req, res) => {
    res.send(staffFindPage(req, ''));
  });

  app.post('/staff/find', challenge, express.urlencoded({ extended: false, limit: '16kb' }), checkCsrf, handle(async (req, res) => {
    const given = (req.body as Record<string, unknown>).email;
    const email = typeof given === 'string' ? given.trim() : '';
    const user = email === '' ? null : await users.findByEmail(email);
    if (user) {
      res.redirect(303, `/consent/admin/console/subject?id=${encodeURIComponent(user.id)}`);
      return;
    }
    res.status(email === '' ? 400 : 404).send(staffFindPage(req, email, email === '' ? 'Enter the email address the person wrote from.' : undefined));
  }));
}
