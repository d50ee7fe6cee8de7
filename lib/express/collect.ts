import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ConsentEngine, WriteOutcome } from '../core/engine';
import { refusedInput } from '../core/write-limiter';
import { contextProblems } from '../core/input';
import { errorOnce } from '../core/warn-once';
import { ConsentError } from '../errors';
import type { Decision, DecisionInput, RecordMeta, RecordResult } from '../types';
import { isGranting, submittedValue } from './form-values';
import { alreadyRead, carriesBody } from './json-body';
import { middlewareOptions } from './middleware-options';
import { writeContext } from './network';
import { problem, problemWords, sendProblem, toProblem } from './problem';
import { localeOf, textIn } from '../i18n/localize';
import { acceptedRanges, isLocaleTag } from '../i18n/negotiate';
import type { ReadyGate } from './ready-gate';
import type { MeRouteSubjects } from './me-routes';
import { newVisitorId } from '../core/visitor-id';

/** A mandatory requirement the form did not grant. */
export interface MissingMandatory {
  id: string;
  title: string;
  url: string | null;
}

/** Options of `collect()`. */
export interface CollectOptions {
  /** Called instead of the 422 `mandatory_missing` answer (e.g. to re-render the form). */
  onMissing?: ((req: Request, res: Response, next: NextFunction, missing: MissingMandatory[]) => void) | undefined;
  /**
   * Where the question was asked (a form name, at most 200 characters), recorded with the
   * decisions unless `commit()` is given one.
   */
  context?: string | undefined;
  /**
   * The language the form was shown in: the `locale` given to `formFields()`, or a function of
   * the request returning it. Each decision records the locale its text was shown in (this one
   * when the version has it, else its default). @default each version's default locale
   */
  locale?: string | ((req: Request) => string | undefined) | undefined;
}

/** What `collect()` puts in `res.locals.consent`. */
export interface CollectedConsent {
  /** The decisions read from the form, in the order of the ids given to `collect()`. */
  decisions: Record<string, Decision>;
  /**
   * Records them (source `form`) for `subjectId`, once it exists. Without one (`undefined` or
   * `null`), for the request's own subject: the `subject` hook's, else, with the `visitors`
   * option, the visitor (a new one gets the cookie, if the response is not sent yet).
   * @throws ConsentError `rate_limited` when this would start a visitor beyond
   *   `rateLimit.newVisitors` for the request's address (nothing recorded).
   */
  commit(subjectId?: string | number | null, meta?: Omit<RecordMeta, 'source'>): Promise<RecordResult>;
}

function parseCollectOptions(options: unknown): CollectOptions {
  const { onMissing, context, locale } = middlewareOptions(options, 'collect', ['onMissing', 'context', 'locale']);
  if (onMissing !== undefined && typeof onMissing !== 'function') {
    throw new ConsentError('invalid_argument', 'collect: "onMissing" must be a function');
  }
  if (context !== undefined && contextProblems(context).length > 0) {
    throw new ConsentError('invalid_argument', 'collect: "context" must be a string of 1–200 characters of well-formed Unicode');
  }
  if (locale !== undefined && typeof locale !== 'function' && !isLocaleTag(locale)) {
    throw new ConsentError('invalid_argument', 'collect: "locale" must be a language tag such as "de", or a function of the request');
  }
  return { onMissing: onMissing as CollectOptions['onMissing'], context: context as string | undefined, locale: locale as CollectOptions['locale'] };
}

/** The form's language for a request: a host function's answer is used only when it is a language tag. */
function formLocale(option: CollectOptions['locale'], req: Request): string[] {
  const value = typeof option === 'function' ? option(req) : option;
  return isLocaleTag(value) ? [value] : [];
}

const UNPARSED_LOG = 'express-consent: collect() got a form whose body no body parser had read, and answered 415 rather than read every box as unchecked. ' +
  'If the form is yours, put a parser for it before collect(): app.post(path, express.urlencoded({ extended: false }), consent.collect(ids), handler), or multer for multipart forms.';

const KEPT_LOG = 'express-consent: collect() got a form whose body a raw or text parser had kept as it was sent (req.body a Buffer or a string), and answered 415 rather than read every box as unchecked. ' +
  'A parser that runs after it reads nothing: limit the raw or text parser to the types or routes it is for (express.raw({ type: \'application/octet-stream\' }), or on the webhook route only).';

/** A body a raw or text parser kept as sent: read, but not as a form (a form parser after it skips it). */
const keptUnparsed = (body: unknown): boolean => Buffer.isBuffer(body) || typeof body === 'string';

/**
 * A form no parser read (the host parses another type, or none): every box would read as
 * unchecked, denials nobody gave. The client sent a type this route does not read: 415.
 */
const unparsedForm = (): ConsentError =>
  new ConsentError('unsupported_media_type', 'this route reads no body of this type: nothing was recorded');

/**
 * `collect(ids, options)`: reads the consent checkboxes of a host form (after the host's body
 * parser). Records nothing by itself: the host commits once the subject exists.
 */
export function createCollect(engine: ConsentEngine, gate: ReadyGate, subjects: MeRouteSubjects, input: unknown, options?: unknown): RequestHandler {
  const ids = gate.ids(input, 'collect');
  const { onMissing, context: formContext, locale } = parseCollectOptions(options);

  return (req, res, next) => {
    gate.serving().then(
      () => {
        try {
          read(req, res, next);
        } catch (error) {
          // The host's own callbacks (`locale`, `onMissing`) threw: its error handler decides.
          next(error);
        }
      },
      (error: unknown) => { sendProblem(res, toProblem(error, req.originalUrl, engine.options.logger), problemWords(req, engine.options.messages)); },
    );
  };

  /** Reads one request's form into `res.locals.consent`, or answers it (415, 422, or the host's `onMissing`). */
  function read(req: Request, res: Response, next: NextFunction): void {
    // A form nobody parsed would read as every box unchecked: denials the person never gave.
    // So would one a raw or text parser kept as sent (a form parser after it reads nothing).
    if (carriesBody(req) && (!alreadyRead(req) || keptUnparsed(req.body))) {
      errorOnce(engine.options.logger, alreadyRead(req) ? KEPT_LOG : UNPARSED_LOG);
      sendProblem(res, toProblem(unparsedForm(), req.originalUrl, engine.options.logger), problemWords(req, engine.options.messages));
      return;
    }
    const decisions: Record<string, Decision> = {};
    const shown: Record<string, DecisionInput> = {};
    const missing: MissingMandatory[] = [];
    const form = formLocale(locale, req);
    for (const id of ids) {
      const requirement = engine.registry.require(id);
      decisions[id] = isGranting(submittedValue(req.body, id)) ? 'granted' : 'denied';
      shown[id] = { decision: decisions[id], locale: localeOf(requirement, form) };
      if (requirement.mandatory && decisions[id] !== 'granted') {
        const { title, url } = textIn(requirement, localeOf(requirement, form.length > 0 ? form : acceptedRanges(req.get('accept-language'))));
        missing.push({ id, title, url });
      }
    }
    if (missing.length > 0) {
      if (onMissing) { onMissing(req, res, next, missing); return; }
      const words = problemWords(req, engine.options.messages);
      const detail = words.catalog.text(words.locale, 'detail.mandatory_missing', { titles: words.catalog.quoted(words.locale, missing.map((m) => m.title)) });
      sendProblem(res, problem('mandatory_missing', 422, detail, req.originalUrl, { missing }), words);
      return;
    }
    const context = writeContext(req, engine.options);
    const collected: CollectedConsent = {
      decisions,
      async commit(subjectId, meta = {}) {
        if (subjectId !== undefined && subjectId !== null) {
          const { states, pending } = await engine.record(subjectId, shown, { context: formContext, ...meta, source: 'form' }, context);
          return { states, pending };
        }
        const who = await subjects.resolver.resolve(req);
        if (who.visitor && who.id === null) subjects.newVisitors?.admit(req);
        const subject = who.id ?? newVisitorId();
        let recorded: WriteOutcome;
        try {
          recorded = await engine.record(subject, shown, { context: formContext, ...meta, source: 'form' }, context);
        } catch (error) {
          // Refused: no visitor started.
          if (who.visitor && who.id === null && refusedInput(error)) subjects.newVisitors?.giveBack(req);
          throw error;
        }
        const { states, pending } = recorded;
        if (who.visitor && subjects.cookies !== null && !res.headersSent) subjects.cookies.write(res, who.transport, subject);
        return { states, pending };
      },
    };
    res.locals.consent = collected;
    next();
  }
}
