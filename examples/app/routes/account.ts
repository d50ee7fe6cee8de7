import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { CollectedConsent, Consent, Requirement } from '../../../lib/index';
import { localPath } from '../guards';
import { signInPage, signUpPage, type FormErrors } from '../pages/account';
import { checkCsrf, type sessions } from '../session';
import type { Users } from '../users';
import { handle } from '../async-handler';

/** What the sign-up form asks, in the order shown. */
export const SIGN_UP_REQUIREMENTS = ['terms', 'newsletter'];

/** What ticking each box says, in the person's words. */
const SIGN_UP_LABELS = { terms: 'I accept the terms of service', newsletter: 'Send me the monthly newsletter' };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function text(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.trim() : '';
}

/** The consent boxes of a submitted form, to show them ticked again after an error. */
function submittedConsent(body: unknown): Record<string, unknown> {
  const raw = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).consent : undefined;
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
}

/** Sign-up (with `collect`), sign-in and sign-out. */
export function accountRoutes(app: Express, consent: Consent, users: Users, session: ReturnType<typeof sessions>): void {
  const form = express.urlencoded({ extended: true, limit: '16kb' });
  /**
   * What a visitor already agreed to among the form's questions (the newsletter, on the
   * preferences page before signing up). The form does not ask it again: a box ticked for them
   * would record a new answer they did not give, and an unticked one a refusal they did not
   * mean. `link()` carries their answer to the account instead. A consent-based requirement
   * without GPC, as here, is allowed exactly when granted.
   */
  async function agreedAsVisitor(req: Request): Promise<Requirement[]> {
    const candidates = consent.requirements().filter((r) => SIGN_UP_REQUIREMENTS.includes(r.id) && r.lawfulBasis === 'consent');
    const allowed = await Promise.all(candidates.map((r) => consent.allows(req, r.id)));
    return candidates.filter((_, i) => allowed[i]);
  }
  const asked = (agreed: readonly Requirement[]) => SIGN_UP_REQUIREMENTS.filter((id) => !agreed.some((r) => r.id === id));

  const fields = (ids: string[], body?: unknown, errors: FormErrors = {}) => consent.formFields(ids, {
    values: submittedConsent(body),
    legend: 'Your choices',
    labels: SIGN_UP_LABELS,
    // The refused box is marked invalid and described by the message.
    ...(errors.consent ? { errors: { terms: errors.consent } } : {}),
  });
  const refuse = (req: Request, res: Response, status: number, errors: FormErrors): Response => {
    const agreed = (res.locals.agreed ?? []) as Requirement[];
    return res.status(status).send(signUpPage(req, fields(asked(agreed), req.body, errors), errors, text(req.body, 'email'), agreed.map((r) => r.title)));
  };

  app.get('/sign-up', handle(async (req, res) => {
    const agreed = await agreedAsVisitor(req);
    res.send(signUpPage(req, fields(asked(agreed)), {}, '', agreed.map((r) => r.title)));
  }));

  // The boxes the form showed: everything it asks, but what the visitor already agreed to.
  const collectAsked: RequestHandler = (req, res, next) => {
    agreedAsVisitor(req).then((agreed) => {
      res.locals.agreed = agreed;
      consent.collect(asked(agreed), { onMissing })(req, res, next);
    }, next);
  };
  function onMissing(req: Request, res: Response, _next: NextFunction, missing: Array<{ title: string }>): void {
    const errors = { ...fieldErrors(req), consent: `To open an account, please accept the ${missing.map((m) => m.title.toLowerCase()).join(', ')}.` };
    refuse(req, res, errors.email || errors.password ? 400 : 422, errors);
  }

  /** What is wrong with the account fields (the consent boxes are `collect`'s to check). */
  const fieldErrors = (req: Request): FormErrors => {
    const errors: FormErrors = {};
    if (!EMAIL.test(text(req.body, 'email')) || text(req.body, 'email').length > 254) errors.email = 'Enter an email address like name@example.com.';
    if (text(req.body, 'password').length < 8) errors.password = 'Choose a password of at least 8 characters.';
    return errors;
  };

  // Every mistake is reported at once: the fields' and the consent boxes' in one answer.
  app.post(
    '/sign-up',
    form,
    checkCsrf,
    collectAsked,
    handle(async (req, res) => {
      const errors = fieldErrors(req);
      if (Object.keys(errors).length > 0) return refuse(req, res, 400, errors);
      const user = await users.create(text(req.body, 'email'), text(req.body, 'password'));
      if (!user) return refuse(req, res, 409, { email: 'An account with this email address already exists. Sign in instead.' });
      await (res.locals.consent as CollectedConsent).commit(user.id);
      // What the person answered as a visitor, where the form did not ask (see agreedAsVisitor).
      await consent.link(req, user.id);
      await session.switchUser(req, res, user.id);
      res.redirect(303, '/preferences?welcome=1');
    }),
  );

  app.get('/sign-in', (req, res) => {
    res.send(signInPage(req, localPath(req.query.next)));
  });

  app.post('/sign-in', form, checkCsrf, handle(async (req, res) => {
    const next = localPath(text(req.body, 'next'));
    const user = await users.authenticate(text(req.body, 'email'), text(req.body, 'password'));
    if (!user) {
      return res.status(401).send(signInPage(req, next, { form: 'That email address and password do not match an account.' }, text(req.body, 'email')));
    }
    await consent.link(req, user.id);
    await session.switchUser(req, res, user.id);
    res.redirect(303, next ?? '/preferences');
  }));

  // Ends the session on the server too: a copy of the cookie no longer signs anyone in.
  app.post('/sign-out', form, checkCsrf, handle(async (req, res) => {
    await session.switchUser(req, res, null);
    res.redirect(303, '/');
  }));
}
