import { generateKeyPairSync } from 'node:crypto';
import { versionSealed } from '../audit/head-seal';
import { deriveKeys } from '../audit/keys';
import { createConsent, type Consent } from '../create-consent';
import type { AdminCapability } from '../tracker/admin-capability';
import type { ConsentTracker } from '../tracker/tracker';
import { ERASE_REQUIREMENT } from '../state/plan-erase';
import { secretBound } from '../core/secret-check';
import { CliError, EXIT, logError, printable } from './exit';
import { latestDefinitions } from './stored-requirements';

/**
 * The store as the commands see it: the tracker interface with its admin capability, and (the
 * Knex tracker's) the newest requirement versions its events answered above what it still holds.
 */
export type CliTracker = ConsentTracker & AdminCapability & { unstoredVersions?(ignore: readonly string[]): Promise<Array<{ id: string; version: number }>> };

/** Options of `openConsent`. */
export interface OpenConsentOptions {
  /** Called with the number of events each verification page read. */
  onEvents?: (count: number) => void;
  /**
   * Open a store whose stored requirement versions do not all check with their seals (changed
   * in the database): for `verify`, which reports them, and `erase`, which uses no text.
   */
  allowAltered?: boolean;
  /**
   * May bind a database no secret is bound to yet to `CONSENT_SECRET` (see `secretBound`): for
   * `migrate` and the commands that write. The others refuse such a database, so that a
   * mistyped secret given to a read cannot claim it before the application starts.
   */
  claims?: boolean;
}

/**
 * The secret: `CONSENT_SECRET`, else the development secret a library process stored. Never
 * generates one: that would silently re-key a database created with another.
 */
async function secretOf(tracker: CliTracker): Promise<string> {
  const fromEnv = process.env.CONSENT_SECRET;
  if (fromEnv) return fromEnv;
  const stored = await tracker.readSetting('secret');
  if (stored !== null) return stored;
  throw new CliError('set CONSENT_SECRET: the database holds no generated secret', EXIT.usage);
}

/**
 * The tracker as the command's consent instance uses it: it registers exactly the versions the
 * store holds, so `ready()` has none to store or compare (`syncRequirement` answers `ok`; a text
 * changed in the database is for `verify` to report through its seal, not a setup error); and,
 * with `onEvents`, its event scans counted for a progress bar.
 */
function asRegistered(tracker: ConsentTracker, onEvents?: (count: number) => void): ConsentTracker {
  return new Proxy(tracker, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'syncRequirement') return () => Promise.resolve({ kind: 'ok' });
      if (property === 'scanEvents' && onEvents !== undefined) {
        return async (query: Parameters<ConsentTracker['scanEvents']>[0]) => {
          const page = await target.scanEvents(query);
          onEvents(page.length);
          return page;
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const named = (versions: ReadonlyArray<{ id: string; version: number }>): string =>
  versions.map((v) => `"${printable(v.id)}" version ${String(v.version)}`).join(', ');

/**
 * Refuses (exit 1) a store whose stored requirement versions do not all check with their seals,
 * or that no longer stores the newest version its events answered: the command takes its texts and
 * lawful bases from there, and one changed in the database (consent turned into legitimate
 * interests), or a newest version deleted so that an older one stands in for it, would change
 * what it lists and exports.
 */
async function refuseAltered(tracker: CliTracker, secret: string): Promise<void> {
  const versions = await tracker.allRequirementVersions();
  const key = deriveKeys(Buffer.from(secret, 'utf8')).chain;
  const altered = versions.filter((v) => !versionSealed(key, v));
  if (altered.length > 0) {
    throw new CliError(`the stored text or lawful basis of requirement ${named(altered)} was changed in the database (its seal does not check): run express-consent verify`, EXIT.problems);
  }
  const gone = (await tracker.unstoredVersions?.([ERASE_REQUIREMENT])) ?? [];
  if (gone.length > 0) {
    throw new CliError(`requirement ${named(gone)}, which people answered, is no longer stored in the database: run express-consent verify`, EXIT.problems);
  }
}

/**
 * A consent instance over an existing, initialised tracker, with the requirements it stores (the
 * latest version of each), so that no application code is needed. Never migrates.
 */
export async function openConsent(tracker: CliTracker, options: OpenConsentOptions = {}): Promise<Consent> {
  const secret = await secretOf(tracker);
  if (Buffer.byteLength(secret, 'utf8') < 32) throw new CliError('CONSENT_SECRET must be at least 32 bytes', EXIT.usage);
  if (options.claims !== true && process.env.CONSENT_SECRET && !(await secretBound(tracker))) {
    throw new CliError(
      'no secret is bound to this database yet, and this command would bind CONSENT_SECRET to it: run `express-consent migrate` with the secret the application uses (or start the application) first',
      EXIT.usage,
    );
  }
  const consent = createConsent({
    tracker: asRegistered(tracker, options.onEvents),
    secret,
    autoMigrate: false,
    cache: false,
    // A command sweeps only when asked to (`sweep`), never on a timer of its own.
    sweep: false,
    storeTimeoutMs: 30_000,
    // The command signs no receipts: a throwaway key keeps it from storing a development key.
    receipts: { privateKey: generateKeyPairSync('ed25519').privateKey, controller: 'express-consent cli' },
    // Setup advice is for application authors; only errors are an operator's business.
    logger: { warn: () => {}, error: logError },
  });
  consent.register(latestDefinitions(await tracker.allRequirementVersions()));
  try {
    await consent.ready();
    // Once ready: a store the upgrade left unsealed is sealed by then.
    if (options.allowAltered !== true) await refuseAltered(tracker, secret);
  } catch (error) {
    await consent.close();
    throw error;
  }
  return consent;
}
