/**
 * `express-consent`: what applications use. Types for writing a storage of your own (the
 * `ConsentTracker` interface and the records it exchanges) are on `express-consent/tracker`,
 * the conformance suite on `express-consent/testing`.
 *
 * @packageDocumentation
 */
export { createConsent, type Consent } from './create-consent';
export type { ImportDecisionInput, ImportOptions, ImportResult } from './core/import';
export type {
  ChangePayload,
  ConfirmationPayload,
  ConsentEventHandler,
  ConsentEventName,
  ConsentEventPayloads,
  OnOptions,
} from './core/events';
export {
  ConsentError,
  ConsentConfigError,
  ConsentStoreError,
  ConsentIntegrityError,
  isConsentError,
  type ConsentErrorCode,
  type ConsentErrorOptions,
} from './errors';
export { DEFAULTS, type AdminVerdict, type ConsentOptions, type ConsentLogger, type SubjectValue } from './options';
export { migrate, type MigrateOptions } from './knex/migrate';
export { KnexTracker, type KnexTrackerOptions } from './knex/knex-tracker';
export { MemoryTracker } from './tracker/memory-tracker';
export { isLocalPath } from './local-url';
export { html, trustedHtml, SafeHtml } from './pages/html';
export type { PagesOptions, PageInfo, HomeLink } from './pages/options';
export { verifyReceipt, type ConsentReceipt, type ReceiptDecision, type ReceiptController, type ReceiptLogProof } from './audit/receipt';
export { verifyCheckpoint, type Checkpoint } from './audit/checkpoint';
export type { SignatureProof } from './audit/signed';
export type { VerifyResult, IntegrityProblem, IntegrityKind } from './audit/integrity';
export type { VerifyOptions } from './core/proof';
export type { SubjectExport, ExportedEvent, ExportedConfirmation } from './core/export';
export type { ShownText } from './core/shown-texts';
export { textHashOf, type RequirementText } from './registry/text';
export { Catalog, type Messages, type MessageKey, type MessagesOption } from './i18n/catalog';
export type * from './types';
export type { GuardOptions, MissingConsent } from './express/guard';
export type { RequireAnswersOptions } from './express/require-answers';
export type { Audience, AudienceSummary } from './core/audience';
export type { AudienceOptions } from './core/audience-filter';
export type { CollectOptions, CollectedConsent, MissingMandatory } from './express/collect';
export type { FormFieldsOptions } from './express/form-fields';
export type { LinkResult } from './core/link';
export type { SweepResult } from './core/sweep';
export type { VisitorOptions } from './options-visitors';
export type { ProblemBody, ProblemCode } from './express/problem';
