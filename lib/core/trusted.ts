import { snapshotSealed, versionSealed } from '../audit/head-seal';
import { ConsentIntegrityError } from '../errors';
import type { ConsentLogger } from '../options';
import type { CurrentRecord, StoredRequirementVersion, SubjectSnapshot } from '../tracker/records';

/*
 * The read paths' check of stored rows: a subject's records are trusted only with the head that
 * seals them (and the link to the pseudonym asked for), a requirement version only with its own
 * seal. A row that fails is refused like a storage failure, never read as consent, and logged:
 * `verify()` names what changed.
 */

const ADVICE = 'run consent.verify() (CLI: express-consent verify) to see what changed';

/** Logs a refusal (once per failure), and returns the error to throw. */
function refusal(logger: ConsentLogger, message: string): ConsentIntegrityError {
  const error = new ConsentIntegrityError(message);
  // With the error: a caller that logs what it catches (the command line) then says it once.
  logger.error(`express-consent: ${message}`, error);
  return error;
}

/** Logs a refused row (once per failure), and returns the error to throw. */
export function integrityFailure(logger: ConsentLogger, what: string): ConsentIntegrityError {
  return refusal(logger, `${what} fail their seal and were refused as a storage failure; ${ADVICE}`);
}

/**
 * The records of the subject `pseudonym` as a tracker read them (`current`), once their head's
 * seal checks: none for a subject with no chain.
 *
 * @throws ConsentIntegrityError when the head, the link or a record is not what the library sealed.
 */
export function trustedRecords(key: Buffer, logger: ConsentLogger, pseudonym: string, snapshot: SubjectSnapshot | null): CurrentRecord[] {
  if (snapshot === null) return [];
  if (snapshot.pseudonym === pseudonym && snapshotSealed(key, snapshot)) return snapshot.records;
  throw integrityFailure(logger, "a subject's stored records (or its link)");
}

/**
 * Stored requirement versions, once each one's seal checks.
 *
 * @throws ConsentIntegrityError when one is not what the library stored (its text, lawful basis,
 *   text hash or time changed).
 */
export function trustedVersions(key: Buffer, logger: ConsentLogger, versions: StoredRequirementVersion[]): StoredRequirementVersion[] {
  const bad = versions.filter((v) => !versionSealed(key, v));
  if (bad.length > 0) throw integrityFailure(logger, `stored requirement versions (${bad.map((v) => `${v.id} v${String(v.version)}`).join(', ')})`);
  return versions;
}

/**
 * Stored versions, once each of `registered` (versions the application registers) is among them:
 * `ready()` stores every registered version, so one missing was deleted since, and a read that
 * needs it is refused like a version that fails its seal (a version nobody answered yet is named
 * by no event, and `verify()` cannot tell that it is gone).
 *
 * @throws ConsentIntegrityError when one is missing.
 */
export function withRegistered(
  logger: ConsentLogger,
  registered: readonly { id: string; version: number }[],
  versions: StoredRequirementVersion[],
): StoredRequirementVersion[] {
  const missing = registered.filter((r) => !versions.some((v) => v.id === r.id && v.version === r.version));
  if (missing.length === 0) return versions;
  const names = missing.map((r) => `${r.id} v${String(r.version)}`).join(', ');
  throw refusal(logger, `registered requirement versions (${names}) are no longer stored and were refused as a storage failure; restore them from a backup (a restart stores them again, but as new from then on)`);
}

/** Logs an integrity failure that a write or an erasure met (the seal refused its snapshot); rethrows everything. */
export function logRefusal(logger: ConsentLogger, error: unknown): never {
  if (error instanceof ConsentIntegrityError) logger.error(`express-consent: ${error.message}; ${ADVICE}`, error);
  throw error;
}
