import { expect } from 'chai';
import knexFactory from 'knex';
import { createConsent, ConsentError, DEFAULTS, MemoryTracker } from '../lib/index';
import { parseOptions } from '../lib/options';
import { sqliteKnexConfig, tempSqliteFile } from './helpers/databases';

const SECRET = 'k'.repeat(32);
const DEV = { NODE_ENV: 'development' };

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConsentError);
    return error as ConsentError;
  }
  throw new Error('expected a ConsentError');
}

const quiet = () => {
  const warnings: string[] = [];
  return { warnings, warn: (m: string) => warnings.push(m), error: () => {} };
};

describe('options', () => {
  it('resolves the documented defaults', () => {
    const resolved = parseOptions({}, DEV);
    expect(resolved).to.include({ tablePrefix: 'consent_', autoMigrate: true, storeTimeoutMs: 2000, network: 'none', secret: null });
    expect(resolved.cache).to.deep.equal({ max: 10_000, ttlMs: 5_000 });
    expect(resolved.confirm).to.deep.equal({ ttlMs: 172_800_000, baseUrl: null, resendAfterMs: 600_000 });
    expect(resolved.subject({ user: { id: 'u1' } } as never)).to.equal('u1');
    expect(DEFAULTS.sqliteFile).to.equal('./consent.sqlite3');
  });

  it('refuses a tablePrefix given beside a tracker, which would name no table, and says where it goes', () => {
    const error = codeOf(() => createConsent({ tracker: new MemoryTracker(), tablePrefix: 'acme_', secret: SECRET }));
    expect(error.code).to.equal('invalid_option');
    expect(error.message).to.contain('new KnexTracker(knex, { tablePrefix })');
    expect(() => createConsent({ tracker: new MemoryTracker(), secret: SECRET })).to.not.throw();
  });

  it('refuses an unknown key with invalid_option and a "did you mean"', () => {
    const error = codeOf(() => parseOptions({ tablePrefx: 'x_' } as never, DEV));
    expect(error.code).to.equal('invalid_option');
    expect(error.message).to.contain('did you mean "tablePrefix"');
    expect(codeOf(() => createConsent({ secrte: SECRET } as never)).message).to.contain('did you mean "secret"');
    expect(codeOf(() => parseOptions({ zzzzzzzzzz: 1 } as never, DEV)).message).to.not.contain('did you mean');
    expect(codeOf(() => parseOptions({ cache: { maxx: 1 } } as never, DEV)).message).to.contain('cache.maxx');
  });

  it('refuses bad values with invalid_option', () => {
    const bad: Array<Record<string, unknown>> = [
      { tablePrefix: 'Bad-' }, { autoMigrate: 'yes' }, { cache: { ttlMs: 0 } }, { storeTimeoutMs: -1 },
      { network: 'some' }, { admin: {} }, { now: 5 }, { subject: 'id' }, { logger: {} }, { knex: {} },
      { tracker: {} }, { confirm: { baseUrl: 'ftp://x' } }, { secret: 'short' }, { secret: 42 },
    ];
    for (const options of bad) expect(codeOf(() => parseOptions(options, DEV)).code, JSON.stringify(options)).to.equal('invalid_option');
    expect(parseOptions({ cache: false }, DEV).cache).to.equal(null);
    expect(parseOptions({ secret: Buffer.alloc(32, 1) }, DEV).secret).to.have.length(32);
  });

  it('an empty secret (a variable set to nothing) is refused with advice, not taken as no secret', () => {
    for (const secret of ['', Buffer.alloc(0)]) {
      const error = codeOf(() => parseOptions({ secret }, DEV));
      expect(error.code).to.equal('invalid_option');
      expect(error.message).to.contain('"secret"').and.contain('is empty').and.contain('leave the option out');
    }
    expect(codeOf(() => parseOptions({ secret: '' }, { NODE_ENV: 'production' })).code).to.equal('invalid_option');
  });

  it('confirm.resendAfterMs: a non-negative integer, 0 allowed, other values and near-miss keys refused', () => {
    expect(parseOptions({ confirm: { resendAfterMs: 0 } }, DEV).confirm).to.deep.equal({ ttlMs: 172_800_000, baseUrl: null, resendAfterMs: 0 });
    expect(parseOptions({ confirm: { ttlMs: 1000, resendAfterMs: 60_000 } }, DEV).confirm.resendAfterMs).to.equal(60_000);
    for (const resendAfterMs of [-1, 1.5, '600000', null, Number.POSITIVE_INFINITY, Number.NaN]) {
      const error = codeOf(() => parseOptions({ confirm: { resendAfterMs } } as never, DEV));
      expect(error.code, String(resendAfterMs)).to.equal('invalid_option');
      expect(error.message).to.contain('confirm.resendAfterMs').and.contain('non-negative integer');
    }
    expect(codeOf(() => parseOptions({ confirm: { resendAfterMS: 0 } } as never, DEV)).message).to.contain('did you mean "resendAfterMs"');
  });

  it('rateLimit: { writes: 1000, newVisitors: 100, windowMs: 60000 } by default, partial objects, false, and checked values', () => {
    expect(parseOptions({}, DEV).rateLimit).to.deep.equal({ writes: 1_000, newVisitors: 100, windowMs: 60_000 });
    expect(DEFAULTS.rateLimit).to.deep.equal({ writes: 1_000, newVisitors: 100, windowMs: 60_000 });
    expect(parseOptions({ rateLimit: { writes: 5 } }, DEV).rateLimit).to.deep.equal({ writes: 5, newVisitors: 100, windowMs: 60_000 });
    expect(parseOptions({ rateLimit: { newVisitors: 7 } }, DEV).rateLimit).to.deep.equal({ writes: 1_000, newVisitors: 7, windowMs: 60_000 });
    expect(parseOptions({ rateLimit: false }, DEV).rateLimit).to.equal(null);
    for (const rateLimit of [true, null, 5, { writes: 0 }, { writes: 1.5 }, { windowMs: -1 }, { writes: '10' }, { newVisitors: 0 }]) {
      expect(codeOf(() => parseOptions({ rateLimit } as never, DEV)).code, JSON.stringify(rateLimit)).to.equal('invalid_option');
    }
    expect(codeOf(() => parseOptions({ rateLimit: { wirtes: 5 } } as never, DEV)).message).to.contain('did you mean "writes"');
    expect(codeOf(() => parseOptions({ ratelimit: false } as never, DEV)).message).to.contain('did you mean "rateLimit"');
  });

  it('refuses unknown keys inside admin, receipts and cache too, with a "did you mean"', () => {
    const authorize = () => true;
    const misspelt = codeOf(() => parseOptions({ receipts: { privatekey: 'x', controller: 'Acme' } } as never, DEV));
    expect(misspelt.code).to.equal('invalid_option');
    expect(misspelt.message).to.contain('receipts.privatekey').and.contain('did you mean "privateKey"');
    expect(codeOf(() => parseOptions({ admin: { authorize, autorize: 1 } } as never, DEV)).message).to.contain('admin.autorize').and.contain('did you mean "authorize"');
    expect(codeOf(() => parseOptions({ cache: { ttl: 5 } } as never, DEV)).message).to.contain('cache.ttl').and.contain('did you mean "ttlMs"');
    expect(parseOptions({ admin: { authorize } }, DEV).admin).to.deep.equal({ authorize });
  });

  it('never mutates the options object', () => {
    const input = Object.freeze({ secret: SECRET, cache: Object.freeze({ max: 5 }) });
    expect(parseOptions(input, DEV).cache).to.deep.equal({ max: 5, ttlMs: 5000 });
  });

  it('requires a secret in production (secret_required)', () => {
    expect(codeOf(() => parseOptions({}, { NODE_ENV: 'production' })).code).to.equal('secret_required');
    expect(parseOptions({ secret: SECRET }, { NODE_ENV: 'production' }).production).to.equal(true);
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(codeOf(() => createConsent({ tracker: new MemoryTracker() })).code).to.equal('secret_required');
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });

  it('elsewhere generates one secret, stores it in the database and warns', async () => {
    const file = tempSqliteFile();
    const knexes = [knexFactory(sqliteKnexConfig(file.filename)), knexFactory(sqliteKnexConfig(file.filename))];
    try {
      const loggers = [quiet(), quiet()];
      const [one, two] = knexes.map((knex, i) => {
        const consent = createConsent({ knex, logger: loggers[i], cache: false });
        consent.register({ id: 'a', title: 'A', description: 'A' });
        return consent;
      });
      await one!.ready();
      await two!.ready();
      await one!.record('subject-1', { a: 'granted' });
      expect((await two!.states('subject-1')).a?.state).to.equal('granted');
      const rows = await knexes[0]!('consent_meta').where({ key: 'secret' });
      expect(rows).to.have.length(1);
      expect(Buffer.byteLength(rows[0].value)).to.be.at.least(32);
      for (const logger of loggers) expect(logger.warnings.join()).to.match(/secret/);
      // Configuring a secret later is another secret than the store's: refused, not a fresh start.
      const configured = createConsent({ knex: knexes[1]!, secret: SECRET, logger: loggers[1] });
      configured.register({ id: 'a', title: 'A', description: 'A' });
      let refused: unknown;
      await configured.ready().catch((error: unknown) => { refused = error; });
      expect(refused).to.include({ code: 'invalid_option' });
      expect(loggers[1]!.warnings.filter((w) => /secret/.test(w))).to.have.length(1, 'a configured secret is not warned about');
    } finally {
      await Promise.all(knexes.map((knex) => knex.destroy()));
      file.remove();
    }
  });
});
