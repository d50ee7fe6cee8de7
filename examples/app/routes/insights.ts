import type { Express, NextFunction, Request, Response } from 'express';
import type { Consent } from '../../../lib/index';
import { signedIn } from '../guards';
import { html } from '../html';
import { page } from '../layout';

/**
 * Usage analytics done the lawful way: page views are counted only while the person allows
 * `analytics` (checked on every request; a withdrawal stops counting at once), and the page
 * showing them is guarded by `requireConsent('analytics')`.
 */
export function insightsRoutes(app: Express, consent: Consent): void {
  const views = new Map<string, Map<string, number>>();

  app.use(async (req: Request, _res: Response, next: NextFunction) => {
    const userId = req.session.userId;
    if (req.method !== 'GET' || !userId || req.path.startsWith('/static/') || req.path.startsWith('/consent/')) { next(); return; }
    try {
      if (await consent.isAllowed(userId, 'analytics')) {
        const counts = views.get(userId) ?? new Map<string, number>();
        counts.set(req.path, (counts.get(req.path) ?? 0) + 1);
        views.set(userId, counts);
      }
      next();
    } catch (error) {
      next(error);
    }
  });

  app.get('/insights', signedIn, consent.requireConsent('analytics', { redirect: '/preferences?needs=analytics' }), (req, res) => {
    const counts = [...(views.get(req.session.userId as string) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
    res.send(
      page(req, 'Reading insights', html`
        <h1>Reading insights</h1>
        <p>You allow usage analytics, so here is what we counted since the server started.
          Withdraw it on your <a href="/preferences">privacy preferences</a> page and counting stops at once.</p>
        <table class="stack">
          <caption>Pages you opened</caption>
          <thead><tr><th scope="col">Page</th><th scope="col">Views</th></tr></thead>
          <tbody>${counts.map(([path, n]) => html`<tr><td data-label="Page">${path}</td><td data-label="Views">${n}</td></tr>`)}</tbody>
        </table>`),
    );
  });
}
