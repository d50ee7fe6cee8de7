import express, { type Express, type Request, type Response } from 'express';
import { isConsentError, type Action, type Consent } from '../../../lib/index';
import { localPath, signedIn } from '../guards';
import { preferencesPage, type Detour, type PreferencesView } from '../pages/preferences';
import { checkCsrf } from '../session';
import { handle } from '../async-handler';

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** The preference center: a page, and one plain form route per requirement (works without script). */
export function preferenceRoutes(app: Express, consent: Consent): void {
  const known = (id: unknown) => consent.requirements().find((r) => r.id === id) ?? null;

  function detourOf(req: Request): Detour | null {
    const next = localPath(req.query.next) ?? localPath(field(req.body, 'next'));
    return next ? { next, needs: known(req.query.needs ?? field(req.body, 'needs')) } : null;
  }

  async function show(req: Request, res: Response, status: number, notice: PreferencesView['notice'], updated: string | null = null) {
    const userId = req.session.userId as string;
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : null;
    const requirements = consent.requirements();
    // First the page of history: a malformed cursor fails here, before the other reads start.
    const history = await consent.history(userId, { limit: 20, cursor });
    const [states, latest] = await Promise.all([
      consent.states(userId),
      // The latest event of each requirement tells a withdrawal from a denial.
      Promise.all(requirements.map((r) => consent.history(userId, { requirement: r.id, limit: 1 }))),
    ]);
    const lastActions: Record<string, Action | null> = Object.fromEntries(requirements.map((r, i) => [r.id, latest[i]?.events[0]?.action ?? null]));
    res.status(status).send(preferencesPage(req, { requirements, states, lastActions, history, detour: detourOf(req), updated, notice }));
  }

  app.get('/preferences', signedIn, handle(async (req, res) => {
    const notice: PreferencesView['notice'] = req.query.welcome === '1' ? { kind: 'status', text: 'Welcome! Your account is ready. These are your privacy choices.' } : null;
    await show(req, res, 200, notice, known(req.query.updated)?.id ?? null);
  }));

  app.post('/preferences/:id', signedIn, express.urlencoded({ extended: false, limit: '16kb' }), checkCsrf, handle(async (req, res) => {
    const id = req.params.id as string;
    const decision = field(req.body, 'decision');
    const version = Number(field(req.body, 'version'));
    if (!known(id)) return res.status(404).type('text/plain').send('There is no such requirement.');
    if ((decision !== 'granted' && decision !== 'denied') || !Number.isSafeInteger(version)) {
      return show(req, res, 400, { kind: 'alert', text: 'Choose one of the buttons to answer.' });
    }
    try {
      await consent.record(req.session.userId as string, { [id]: { decision, version } }, { source: 'form' });
    } catch (error) {
      if (isConsentError(error) && error.code === 'version_mismatch') {
        return show(req, res, 409, { kind: 'alert', text: 'The text changed while you were reading it. Please read it again and answer.' });
      }
      throw error;
    }
    const query = new URLSearchParams({ updated: id });
    const detour = detourOf(req);
    if (detour?.needs) query.set('needs', detour.needs.id);
    if (detour) query.set('next', detour.next);
    res.redirect(303, `/preferences?${query.toString()}#saved-${id}`);
  }));
}
