import { generateKeyPairSync } from 'node:crypto';
import { createConsent, type Consent } from '../create-consent';
import type { AdminCapability } from '../tracker/admin-capability';
import type { ConsentTracker } from '../tracker/tracker';
import { CliError, EXIT, logError } from './exit';
import { latestDefinitions } from './stored-requirements';

/** The store as the commands see it: the tracker interface with its admin capability. */
export type CliTracker = ConsentTracker & AdminCapability;

/** Options of `openConsent`. */
export interface OpenConsentOptions {
  /** Called with the number of events each verification page read. */
  onEvents?: (count: number) => void;
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

/** The tracker with its event scans counted, for a progress bar. */
function observed(tracker: ConsentTracker, onEvents: (count: number) => void): ConsentTracker {
  return new Proxy(tracker, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'scanEvents') {
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

/**
 * A consent instance over an existing, initialised tracker, with the requirements it stores (the
 * latest version of each), so that no application code is needed. Never migrates.
 */
export async function openConsent(tracker: CliTracker, options: OpenConsentOptions = {}): Promise<Consent> {
  const secret = await secretOf(tracker);
  if (Buffer.byteLength(secret, 'utf8') < 32) throw new CliError('CONSENT_SECRET must be at least 32 bytes', EXIT.usage);
  const consent = createConsent({
    tracker: options.onEvents ? observed(tracker, options.onEvents) : tracker,
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
  await consent.ready();
  return consent;
}
