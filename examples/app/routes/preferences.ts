import express, { type Express, type Request, type Response } from 'express';
import { isConsentError, type Consent } from '../../../lib/index';
import { localPath, signedIn } from '../guards';
import { preferencesPage, STATE_LABELS, type PreferencesView } from '../pages/preferences';
import { checkCsrf } from '../session';
import { handle } from '../async-handler';

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** The preference center: a page, and one plain form route per requirement (works without script). */
export function preferenceRoutes(app: Express, consent: Consent): void {
  async function show(req: Request, res: Response, status: number, notice: PreferencesView['notice']) {
    const userId = req.session.userId as string;
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : null;
    const [states, history] = await Promise.all([consent.states(userId), consent.history(userId, { limit: 20, cursor })]);
    const next = localPath(req.query.next) ?? localPath(field(req.body, 'next'));
    res.status(status).send(preferencesPage(req, { requirements: consent.requirements(), states, history, next, notice }));
  }

  app.get('/preferences', signedIn, handle(async (req, res) => {
    const requirement = consent.requirements().find((r) => r.id === req.query.updated);
    let notice: PreferencesView['notice'] = null;
    if (requirement) {
      const state = (await consent.states(req.session.userId as string))[requirement.id]?.state ?? 'unset';
      notice = { kind: 'status', text: `Saved. ${requirement.title}: ${STATE_LABELS[state]}.` };
    } else if (req.query.welcome === '1') {
      notice = { kind: 'status', text: 'Welcome! Your account is ready. These are your privacy choices.' };
    }
    await show(req, res, 200, notice);
  }));

  app.post('/preferences/:id', signedIn, express.urlencoded({ extended: false, limit: '16kb' }), checkCsrf, handle(async (req, res) => {
    const id = req.params.id as string;
    const decision = field(req.body, 'decision');
    const version = Number(field(req.body, 'version'));
    if (!consent.requirements().some((r) => r.id === id)) return res.status(404).type('text/plain').send('There is no such requirement.');
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
    const next = localPath(field(req.body, 'next'));
    res.redirect(303, `/preferences?updated=${encodeURIComponent(id)}${next ? `&next=${encodeURIComponent(next)}` : ''}#req-${id}`);
  }));
}
