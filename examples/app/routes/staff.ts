import type { Express, RequestHandler } from 'express';
import { handle } from '../async-handler';
import { staffFindPage } from '../pages/staff';
import type { Users } from '../users';

/**
 * Staff find a person's consent records from the email address the person wrote from. The
 * consent console looks people up by the subject id the app gives the library, here the
 * account's id (a UUID nobody remembers), so the app maps its own key to it and sends staff
 * to the console's page for that subject. Behind the console's password (`challenge`).
 */
export function staffRoutes(app: Express, users: Users, challenge: RequestHandler): void {
  app.get('/staff/find', challenge, handle(async (req, res) => {
    const given = req.query.email;
    const email = typeof given === 'string' ? given.trim() : '';
    const user = email === '' ? null : await users.findByEmail(email);
    if (user) {
      res.redirect(303, `/consent/admin/console/subject?id=${encodeURIComponent(user.id)}`);
      return;
    }
    res.status(email === '' ? 200 : 404).send(staffFindPage(req, email));
  }));
}
