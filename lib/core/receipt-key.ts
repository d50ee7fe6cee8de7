import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ReceiptController } from '../audit/receipt';
import { ConsentConfigError, ConsentError } from '../errors';
import type { ResolvedOptions } from '../options';
import type { ConsentTracker } from '../tracker/tracker';
import { warnOnce } from './warn-once';
import { atMostCharacters, storableText } from '../characters';

const SETTING = 'receipt_key';

/**
 * The public key (SPKI PEM) of the development receipts key kept with the consent data, or null
 * when the store keeps none (the application signs with a key of its own). Stores nothing.
 */
export async function storedReceiptPublicKey(settings: { readSetting(name: string): Promise<string | null> }): Promise<string | null> {
  const stored = await settings.readSetting(SETTING);
  if (stored === null) return null;
  try {
    return createPublicKey(createPrivateKey(stored)).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    return null;
  }
}

function parseKey(value: unknown): KeyObject {
  let key: KeyObject;
  try {
    const candidate = typeof value === 'string' ? createPrivateKey(value) : (value as KeyObject | null | undefined);
    if (candidate?.type !== 'private') throw new Error('not a private key');
    key = candidate;
  } catch (error) {
    throw new ConsentConfigError('invalid_option', 'option "receipts.privateKey" must be an Ed25519 private key (PEM string or KeyObject)', {
      cause: error,
      extensions: { option: 'receipts.privateKey' },
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConsentConfigError('invalid_option', `option "receipts.privateKey" must be an Ed25519 key, not ${String(key.asymmetricKeyType)}`, {
      extensions: { option: 'receipts.privateKey' },
    });
  }
  return key;
}

function badController(why: string): never {
  throw new ConsentConfigError('invalid_option', `option "receipts.controller" ${why}`, { extensions: { option: 'receipts.controller' } });
}

// Signed as given in every receipt and checkpoint: a lone surrogate is not I-JSON, so other
// RFC 8785 implementations could not check the signature.
// At most as long as a requirement text's controller (name 200, contact 500 characters).
function controllerText(value: unknown, member: string, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0 || !storableText(value) || !atMostCharacters(value, max)) {
    badController(`${member === '' ? '' : `member "${member}" `}must be a non-empty string of at most ${String(max)} characters of well-formed Unicode without U+0000`);
  }
  return value;
}

/** The controller receipts name: `'ACME'` or `{ name, contact? }`; null without the option. */
function parseController(value: unknown): ReceiptController | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return { name: controllerText(value, '', 200) };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) badController("must be a name or { name, contact? }");
  for (const key of Object.keys(value)) if (key !== 'name' && key !== 'contact') badController(`has no member "${key}" (name, contact)`);
  const { name, contact } = value as Record<string, unknown>;
  const named = { name: controllerText(name, 'name', 200) };
  return contact === undefined || contact === null ? named : { ...named, contact: controllerText(contact, 'contact', 500) };
}

/**
 * The receipt signing key (option `receipts`). A configured key is parsed at creation time;
 * production without one throws. Elsewhere `load()` (run by `ready()`) generates a development
 * key once, keeps it in the store so that every process signs alike, and warns.
 */
export class ReceiptKey {
  readonly controller: ReceiptController | null;
  private privateKey: KeyObject | null = null;
  private publicPem: string | null = null;

  /** @throws ConsentConfigError `invalid_option` for a bad key, or no key in production. */
  constructor(options: ResolvedOptions) {
    const receipts = options.receipts;
    this.controller = parseController(receipts?.controller);
    if (receipts && receipts.privateKey !== undefined && receipts.privateKey !== null) {
      this.use(parseKey(receipts.privateKey));
    } else if (options.production) {
      throw new ConsentConfigError(
        'invalid_option',
        'NODE_ENV=production needs the "receipts" option: { privateKey, controller } with an Ed25519 private key ' +
          '(generate one with: openssl genpkey -algorithm ed25519)',
        { extensions: { option: 'receipts' } },
      );
    }
  }

  async load(tracker: ConsentTracker, logger: ResolvedOptions['logger']): Promise<void> {
    if (this.privateKey) return;
    const candidate = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.use(createPrivateKey(await tracker.setting(SETTING, candidate)));
    warnOnce(
      logger,
      'express-consent: no "receipts.privateKey" option; signing receipts with a development key kept with the consent data. ' +
        'Configure an Ed25519 key of your own before production.',
    );
  }

  get signingKey(): KeyObject {
    if (!this.privateKey) throw new ConsentError('internal_error', 'the receipt key is loaded by ready(): await consent.ready() first');
    return this.privateKey;
  }

  /** The public key as SPKI PEM. */
  get publicKey(): string {
    if (!this.publicPem) throw new ConsentError('internal_error', 'the development receipt key is loaded by ready(): await consent.ready() first');
    return this.publicPem;
  }

  private use(key: KeyObject): void {
    this.privateKey = key;
    this.publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  }
}
