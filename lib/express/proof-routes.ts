import type { Request, RequestHandler, Response } from 'express';
import type { ConsentEngine } from '../core/engine';
import { openSubjectExport } from '../core/export';
import { eraseSubject, type ConsentProof } from '../core/proof';
import { ConsentError } from '../errors';
import { adminActor } from './admin-authorize';
import { asyncHandler } from './async-handler';
import { sendJson } from './send-json';
import { sendSubjectExport } from './subject-export';
import { atMostCharacters } from '../characters';

/** What the proof handlers read: a `Consent` instance satisfies it. */
export interface ProofSource extends Pick<ConsentProof, 'receipt' | 'verify' | 'checkpoint'> {
  /** The receipt verification key (SPKI PEM), available once ready. */
  readonly publicKey: string;
  readonly engine: ConsentEngine;
  /** Resolves once the instance can serve (rejects with `store_unavailable` otherwise). */
  ready(): Promise<void>;
}

/** What the proof handlers need from the router that mounts them. */
export interface ProofRouteOptions {
  /**
   * Resolves the request's subject id (the router's own resolver): rejects with `no_subject`
   * (401) when there is none.
   */
  subject(req: Request): Promise<string>;
}

/** Request handlers of the proof routes, for the router to mount. */
export interface ProofHandlers {
  /** `GET /me/receipt`: 200 signed receipt. */
  receipt: RequestHandler;
  /** `GET /me/export`: 200 everything stored about the subject, streamed page by page. */
  exportMe: RequestHandler;
  /** `GET /receipts/key`: 200 `{ alg: "Ed25519", publicKey }`; needs no subject. */
  receiptKey: RequestHandler;
  /** `DELETE /admin/subjects/:subjectId`: 200 `{ events }`. Mount behind admin authorization. */
  adminErase: RequestHandler;
  /** `GET /admin/verify?subjectId=`: 200 `{ ok, checked, problems }`. Mount behind admin authorization. */
  adminVerify: RequestHandler;
  /** `GET /admin/checkpoint`: 200 a signed checkpoint of the global log. Mount behind admin authorization. */
  adminCheckpoint: RequestHandler;
}

function sendPersonal(res: Response, body: unknown): void {
  // Personal data: never kept by a shared cache or the browser's back/forward history (and so
  // without an ETag: nobody revalidates it).
  res.set('Cache-Control', 'no-store');
  sendJson(res, 200, body);
}

function querySubject(query: Record<string, unknown>): string | undefined {
  const value = query.subjectId;
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length >= 1 && atMostCharacters(value, 256)) return value;
  throw new ConsentError('invalid_body', 'subjectId must be a string of 1–256 characters', {
    extensions: { errors: [{ pointer: '/subjectId', detail: 'must be a string of 1–256 characters' }] },
  });
}

/**
 * Builds the proof route handlers over a consent instance. Errors go to `next(err)`, for the
 * router's problem+json handler.
 *
 * @example
 * const proof = proofHandlers(consent, { subject: async (req) => (await resolver.resolve(req)).id ?? newVisitorId() });
 * router.get('/me/receipt', proof.receipt);
 */
export function proofHandlers(consent: ProofSource, options: ProofRouteOptions): ProofHandlers {
  return {
    receipt: asyncHandler(async (req, res) => {
      const receipt = await consent.receipt(await options.subject(req));
      // Followed from a page, it is a file the person keeps; a program reads the JSON as usual.
      res.set('Content-Disposition', 'attachment; filename="consent-receipt.json"');
      sendPersonal(res, receipt);
    }),
    exportMe: asyncHandler(async (req, res) => {
      const parts = await openSubjectExport(consent.engine, await options.subject(req));
      await sendSubjectExport(res, parts, consent.engine.options.logger);
    }),
    receiptKey: asyncHandler(async (_req, res) => {
      await consent.ready();
      res.status(200).json({ alg: 'Ed25519', publicKey: consent.publicKey });
    }),
    adminErase: asyncHandler(async (req, res) => {
      const subjectId = req.params.subjectId as string;
      sendPersonal(res, await eraseSubject(consent.engine, subjectId, { source: 'admin', actor: adminActor(req) }));
    }),
    adminVerify: asyncHandler(async (req, res) => {
      const subjectId = querySubject(req.query);
      sendPersonal(res, await consent.verify(subjectId === undefined ? {} : { subjectId }));
    }),
    adminCheckpoint: asyncHandler(async (_req, res) => {
      res.set('Cache-Control', 'no-store').status(200).json(await consent.checkpoint());
    }),
  };
}
