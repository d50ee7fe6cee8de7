import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { createConsent, MemoryTracker, type Consent, type ConsentOptions } from '../../lib/index';

const SECRET = 'confirm-advice-secret-0123456789abcdef0123';

/** A logger collecting warnings (each instance its own, so a warning given once is seen by every test). */
function collecting(): { warn(message: string): void; error(): void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => { warnings.push(message); }, error() {} };
}

async function withEnv<T>(value: string | undefined, body: () => Promise<T>): Promise<T> {
  const saved = process.env.NODE_ENV;
  if (value === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

describe('advice about double opt-in', () => {
  const open: Consent[] = [];
  afterEach(async () => { for (const consent of open.splice(0)) await consent.close(); });

  async function start(options: ConsentOptions, doubleOptIn = true): Promise<{ consent: Consent; warnings: string[] }> {
    const logger = collecting();
    const consent = createConsent({ tracker: new MemoryTracker(), secret: SECRET, logger, ...options });
    open.push(consent);
    consent.register({ id: 'news', title: 'Newsletter', description: 'Monthly.', doubleOptIn });
    await consent.ready();
    return { consent, warnings: logger.warnings };
  }

  it('says once when a double opt-in request is recorded and no confirmation handler takes its link', async () => {
    const { consent, warnings } = await start({});
    expect((await consent.record('ann', { news: 'granted' })).states.news?.state).to.equal('pending');
    await consent.record('bob', { news: 'granted' });
    const said = warnings.filter((w) => /no "confirmation" handler/.test(w));
    expect(said).to.have.length(1);
    expect(said[0]).to.include('nobody is sent its link');
    // With a handler, in-process or durable, nothing is said.
    for (const name of [undefined, 'mailer']) {
      const logger = collecting();
      const other = createConsent({ tracker: new MemoryTracker(), secret: SECRET, logger });
      open.push(other);
      other.register({ id: 'news', title: 'Newsletter', description: 'Monthly.', doubleOptIn: true });
      other.on('confirmation', () => undefined, name === undefined ? {} : { name });
      await other.ready();
      await other.record('ann', { news: 'granted' });
      expect(logger.warnings.filter((w) => /no "confirmation" handler/.test(w)), String(name)).to.deep.equal([]);
    }
  });

  it('in production, says at ready() that confirmation links need confirm.baseUrl', async () => {
    const receipts = { privateKey: generateKeyPairSync('ed25519').privateKey, controller: 'ACME' };
    const advice = (warnings: string[]) => warnings.filter((w) => /confirm\.baseUrl is not set/.test(w));
    await withEnv('production', async () => {
      expect(advice((await start({ receipts })).warnings)).to.have.length(1);
      expect(advice((await start({ receipts, confirm: { baseUrl: 'https://example.com/consent' } })).warnings)).to.deep.equal([]);
      expect(advice((await start({ receipts }, false)).warnings), 'no double opt-in requirement').to.deep.equal([]);
    });
    await withEnv(undefined, async () => {
      expect(advice((await start({})).warnings), 'not in development').to.deep.equal([]);
    });
  });
});
