export { createConsent, type Consent } from './create-consent';
export type { ImportDecisionInput, ImportOptions, ImportResult } from './core/import';
export {
  ConsentError,
  ConsentConfigError,
  ConsentRequiredError,
  ConsentStoreError,
  isConsentError,
  type ConsentErrorCode,
  type ConsentErrorOptions,
} from './errors';
export { DEFAULTS, type ConsentOptions, type ConsentLogger, type SubjectValue } from './options';
export { migrate, type MigrateOptions } from './knex/migrate';
export { KnexTracker, type KnexTrackerOptions } from './knex/knex-tracker';
export { MemoryTracker } from './tracker/memory-tracker';
export type { ConsentTracker, TrackerHistoryQuery } from './tracker/tracker';
export type {
  CurrentRecord,
  StoredEvent,
  NewEvent,
  SubjectSnapshot,
  WritePlan,
  StoredRequirementVersion,
  SyncOutcome,
} from './tracker/records';
export type * from './types';
export type { ConsentHttpApi } from './express/http-api';
export type { GuardOptions, MissingConsent } from './express/guard';
export type { CollectOptions, CollectedConsent, MissingMandatory } from './express/collect';
export type { FormFieldsOptions } from './express/form-fields';
export type { ProblemBody, ProblemCode } from './express/problem';
