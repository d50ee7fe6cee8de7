import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { createConsent, KnexTracker, MemoryTracker, type ChangePayload, type Consent, type ConsentOptions } from '../../lib/index';
import { defaultKnex } from '../../lib/knex/default-knex';
import { countStatements } from '../helpers/count-statements';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { waitUntil } from './wait-until';

const CHILD = fileURLToPath(new URL('./fixtures/outbox-child.ts', import.meta.url));
const SECRET = 'o'.repeat(32);
const FAST = { pollMs: 10, leaseMs: 60_000, retryMs: 5, maxRetryMs: 20 };
const quiet = { warn() {}, error() {} };

function make(knex: Knex, extra: Partial<ConsentOptions> = {}): Consent {
  // A generous storage deadline: these tests are about delivery, not a loaded machine's latency.
  const consent = createConsent({ knex, secret: SECRET, sweep: false, storeTimeoutMs: 60_000, outbox: FAST, logger: quiet, ...extra });
  consent.register({ id: 'analytics', title: 'Analytics', description: 'Usage statistics.' });
  return consent;
}

const outboxRows = async (knex: Knex) => Number((await knex('consent_outbox').count({ n: '*' }))[0]!.n);

/**
 * Builds a backlog of 120 entries behind a first delivery held at a gate, releases it, and
 * counts the claims and the deletions of delivered entries until the outbox is empty.
 */
async function deliverBacklog(consent: Consent, knex: Knex): Promise<{ claims: number; deletions: number; delivered: string[] }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const delivered: string[] = [];
  consent.on('change', async (p) => {
    await gate;
    delivered.push(p.eventId);
  }, { name: 'mirror' });
  await consent.ready();
  // The first delivery waits at the gate while the backlog builds up behind it.
  for (let i = 0; i < 120; i += 1) await consent.record(`s${String(i)}`, { analytics: 'granted' });
  const claims = countStatements(knex, /^update .*consent_outbox.* set .*locked_until/i);
  const deletions = countStatements(knex, /^delete from .*consent_outbox/i);
  release();
  await waitUntil(() => delivered.length === 120, 'every entry delivered');
  await waitUntil(async () => (await outboxRows(knex)) === 0, 'every entry deleted');
  claims.stop();
  deletions.stop();
  return { claims: claims.n, deletions: deletions.n, delivered };
}

/**
 * A handler that fails on a subject's grant until released: the withdrawal recorded after it
 * waits behind it (retried in order), while another subject's entry goes ahead.
 */
async function deliveredInOrder(consent: Consent): Promise<void> {
  let down = true;
  let failures = 0;
  const seen: string[] = [];
  consent.on('change', (p) => {
    if (p.subjectId === 'lea' && p.action === 'grant' && down) {
      failures += 1;
      return Promise.reject(new Error('the CRM is down'));
    }
    seen.push(`${p.subjectId} ${p.action}`);
    return undefined;
  }, { name: 'crm' });
  await consent.ready();
  await consent.record('lea', { analytics: 'granted' });
  await consent.record('lea', { analytics: 'denied' });
  await consent.record('max', { analytics: 'granted' });
  await waitUntil(() => seen.includes('max grant') && failures >= 3, 'the other subject delivered, the grant retried');
  expect(seen, 'the withdrawal waits for the grant it withdraws').to.deep.equal(['max grant']);
  down = false;
  await waitUntil(() => seen.length === 3, 'both of lea\'s changes delivered');
  expect(seen).to.deep.equal(['max grant', 'lea grant', 'lea withdraw']);
}

describe('durable handlers (outbox) on SQLite', () => {
  let file: ReturnType<typeof tempSqliteFile>;
  const opened: Array<{ consent: Consent; knex: Knex }> = [];

  function open(extra: Partial<ConsentOptions> = {}, knex = knexFactory(sqliteKnexConfig(file.filename))): Consent {
    const consent = make(knex, extra);
    opened.push({ consent, knex });
    return consent;
  }

  beforeEach(() => {
    file = tempSqliteFile();
  });

  afterEach(async () => {
    for (const { consent, knex } of opened.splice(0)) {
      await consent.close();
      await knex.destroy();
    }
    file.remove();
  });

  it('retries a failing handler with backoff: failed twice, then succeeded once, entry deleted', async () => {
    const consent = open();
    let calls = 0;
    const delivered: ChangePayload[] = [];
    consent.on(
      'change',
      async (payload) => {
        calls += 1;
        if (calls <= 2) throw new Error(`failure ${String(calls)}`);
        delivered.push(payload);
      },
      { name: 'flaky' },
    );
    await consent.ready();
    await consent.record('lea', { analytics: 'granted' });
    await waitUntil(() => delivered.length === 1, 'the third attempt');
    const [event] = (await consent.history('lea')).events;
    await consent.close();
    expect(calls).to.equal(3);
    expect(delivered[0]).to.deep.equal({
      subjectId: 'lea', requirement: 'analytics', action: 'grant', state: 'granted', previous: 'unset', source: 'app', eventId: event!.id, at: event!.at,
    });
    expect(await outboxRows(opened[0]!.knex)).to.equal(0);
  });

  it('delivers a subject\'s changes to a handler in order, across retries, without holding back others', async () => {
    await deliveredInOrder(open());
  });

  it('stores the payload encrypted, and delivers withdrawn only for withdrawals', async () => {
    const consent = open();
    const withdrawn: ChangePayload[] = [];
    consent.on('change', () => Promise.reject(new Error('down')), { name: 'always-down' });
    consent.on('withdrawn', (payload) => void withdrawn.push(payload), { name: 'cleanup' });
    await consent.ready();
    await consent.record('subject-mara@example.com', { analytics: 'granted' });
    await consent.record('subject-mara@example.com', { analytics: 'denied' });
    await waitUntil(() => withdrawn.length === 1, 'the withdrawal');
    expect(withdrawn[0]).to.include({ subjectId: 'subject-mara@example.com', action: 'withdraw', previous: 'granted', state: 'denied' });
    const rows = await opened[0]!.knex('consent_outbox').select('*');
    expect(rows.map((r) => r.handler)).to.deep.equal(['always-down', 'always-down']);
    const raw = JSON.stringify(rows) + rows.map((r) => Buffer.from(r.payload, 'base64').toString('latin1')).join('');
    expect(raw).to.not.include('mara');
  });

  it('erasure deletes the subject\'s undelivered entries, and only those', async () => {
    const consent = open();
    consent.on('change', () => Promise.reject(new Error('down')), { name: 'always-down' });
    await consent.ready();
    await consent.record('gone', { analytics: 'granted' });
    await consent.record('kept', { analytics: 'granted' });
    expect(await outboxRows(opened[0]!.knex)).to.equal(2);
    await consent.erase('gone');
    expect(await outboxRows(opened[0]!.knex)).to.equal(1);
  });

  it('an entry claimed with others and erased before it was started is not delivered', async () => {
    const consent = open({ outbox: { ...FAST, pollMs: 3_600_000 } });
    let started!: () => void;
    const second = new Promise<void>((resolve) => { started = resolve; });
    const gates: Array<() => void> = [];
    const held = [0, 1].map(() => new Promise<void>((resolve) => { gates.push(resolve); }));
    const delivered: string[] = [];
    consent.on('change', async (p) => {
      delivered.push(p.subjectId);
      if (delivered.length === 2) started();
      if (delivered.length <= 2) await held[delivered.length - 1];
    }, { name: 'mirror' });
    await consent.ready();
    for (const s of ['s0', 's1', 'gone', 's3']) await consent.record(s, { analytics: 'granted' });
    // s0 went alone; s1, gone and s3 are claimed together, and s1 is being delivered.
    gates[0]!();
    await second;
    await consent.erase('gone');
    gates[1]!();
    await waitUntil(() => delivered.includes('s3'), 'the entry after the erased one');
    await waitUntil(async () => (await outboxRows(opened[0]!.knex)) === 0, 'every entry deleted');
    await consent.close();
    expect(delivered).to.deep.equal(['s0', 's1', 's3']);
  });

  it('refuses a named handler after ready(), a duplicate name and an unknown event', async () => {
    const consent = open();
    consent.on('change', () => {}, { name: 'one' });
    expect(() => { consent.on('change', () => {}, { name: 'one' }); }).to.throw().with.property('code', 'invalid_argument');
    expect(() => { consent.on('nope' as 'change', () => {}); }).to.throw().with.property('code', 'invalid_argument');
    expect(() => { consent.on('change', () => {}, { name: 'bad name!' }); }).to.throw().with.property('code', 'invalid_argument');
    await consent.ready();
    expect(() => { consent.on('withdrawn', () => {}, { name: 'late' }); }).to.throw().with.property('code', 'registry_sealed');
    consent.on('withdrawn', () => {});
  });

  it('a process killed (SIGKILL) after the commit, mid-delivery, delivers after a restart', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file.filename], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => { resolve(signal); }));
    await waitUntil(() => output.includes('committed') && output.includes('delivering'), `the child (output: ${output})`);
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');

    const restarted = open({ outbox: { ...FAST, leaseMs: 500 } });
    const delivered: ChangePayload[] = [];
    restarted.on('withdrawn', (payload) => void delivered.push(payload), { name: 'analytics-cleanup' });
    await restarted.ready();
    await waitUntil(() => delivered.length === 1, 'delivery after the restart');
    const [withdrawal] = (await restarted.history('kim')).events;
    expect(delivered[0]).to.deep.include({ subjectId: 'kim', action: 'withdraw', eventId: withdrawal!.id });
    await waitUntil(async () => (await outboxRows(opened[0]!.knex)) === 0, 'the entry to be deleted');
  });

  it('delivers a backlog claiming entries in batches, not one claim per entry', async () => {
    // Polling only when kicked: every claim counted below is one the backlog needed.
    const consent = open({ outbox: { ...FAST, pollMs: 3_600_000 } });
    const { claims, delivered } = await deliverBacklog(consent, opened[0]!.knex);
    expect(new Set(delivered).size).to.equal(120);
    // One claim per entry took 119 claims here, each a commit waiting its turn on the connection.
    expect(claims).to.be.at.most(5);
  });

  it('deletes delivered entries together, not with a statement (and a commit) each', async () => {
    const consent = open({ outbox: { ...FAST, pollMs: 3_600_000 } });
    const { deletions, delivered } = await deliverBacklog(consent, opened[0]!.knex);
    expect(new Set(delivered).size).to.equal(120);
    // One statement per entry took 120 here, each a commit of its own.
    expect(deletions).to.be.at.most(12);
  });

  it('deletes a delivered entry while a slow delivery after it still runs', async () => {
    const consent = open({ outbox: { ...FAST, pollMs: 3_600_000 } });
    consent.register({ id: 'news', title: 'News', description: 'A monthly letter.' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const delivered: string[] = [];
    consent.on('change', async (p) => {
      // The second entry's handler waits: the first entry's row must not wait with it.
      if (delivered.push(p.requirement) === 2) await gate;
    }, { name: 'slow' });
    await consent.ready();
    // Two subjects' entries: one claim holds both (a subject's own entries go one after the other).
    await consent.record('someone', { analytics: 'granted' });
    await consent.record('someone else', { news: 'granted' });
    await waitUntil(() => delivered.length === 2, 'both deliveries started');
    await waitUntil(async () => (await outboxRows(opened[0]!.knex)) === 1, "the first entry's row deleted");
    expect(await opened[0]!.knex('consent_outbox').count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    release();
    await waitUntil(async () => (await outboxRows(opened[0]!.knex)) === 0, 'both rows deleted');
  });

  it('deletes the entries delivered before a failure of the pass before close() returns', async () => {
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    // A store that fails the check of the second entry of a claim.
    class FailingCheck extends KnexTracker {
      override outboxClaimed(): Promise<boolean> {
        return Promise.reject(new Error('the store went away'));
      }
    }
    const consent = make(knex, { tracker: new FailingCheck(knex), knex: undefined, outbox: { ...FAST, pollMs: 3_600_000 } });
    consent.register({ id: 'news', title: 'News', description: 'A monthly letter.' });
    const delivered: string[] = [];
    consent.on('change', (p) => void delivered.push(p.requirement), { name: 'mirror' });
    try {
      await consent.ready();
      await consent.record('someone', { analytics: 'granted' });
      await consent.record('someone else', { news: 'granted' });
      await waitUntil(() => delivered.length === 1, 'the first entry delivered');
    } finally {
      await consent.close();
    }
    // The delivered entry's row is gone; the other waits for its lease to lapse.
    const rows = await knex('consent_outbox').select('event_id');
    await knex.destroy();
    expect(rows).to.have.length(1);
  });

  it('releases the entries of a claim it will not start (half the lease gone), in order and at once', async () => {
    // Polling only when kicked: an entry left claimed would wait for the next write to come back.
    const consent = open({ outbox: { ...FAST, pollMs: 3_600_000, leaseMs: 400 } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const delivered: string[] = [];
    consent.on('change', async (p) => {
      if (delivered.length === 0) await gate;
      // The second one takes more than half the lease: the batch's others are not started.
      if (delivered.length === 1) await new Promise((resolve) => setTimeout(resolve, 250));
      delivered.push(p.subjectId);
    }, { name: 'slow' });
    await consent.ready();
    const subjects = ['s0', 's1', 's2', 's3', 's4'];
    for (const s of subjects) await consent.record(s, { analytics: 'granted' });
    release();
    await waitUntil(() => delivered.length === subjects.length, 'every entry delivered', 3_000);
    expect(delivered).to.deep.equal(subjects);
  });

  it('close() releases the entries claimed and not started, for another process to take now', async () => {
    const consent = open({ outbox: { ...FAST, pollMs: 3_600_000 } });
    let started!: () => void;
    const second = new Promise<void>((resolve) => { started = resolve; });
    const gates: Array<() => void> = [];
    const held = [0, 1].map(() => new Promise<void>((resolve) => { gates.push(resolve); }));
    let calls = 0;
    consent.on('change', async () => {
      calls += 1;
      if (calls === 2) started();
      if (calls <= 2) await held[calls - 1];
    }, { name: 'held' });
    await consent.ready();
    for (const s of ['s0', 's1', 's2', 's3']) await consent.record(s, { analytics: 'granted' });
    // s0 went alone; s1 to s3 are claimed together, and s1 is being delivered when close() comes.
    gates[0]!();
    await second;
    const closed = consent.close();
    gates[1]!();
    await closed;
    expect(calls).to.equal(2);
    const rows: Array<Record<string, unknown>> = await opened[0]!.knex('consent_outbox').orderBy('id').select('locked_until', 'claim', 'attempts');
    expect(rows).to.have.length(2);
    expect(rows.map((r) => [r.locked_until, r.claim, Number(r.attempts)])).to.deep.equal([[null, null, 0], [null, null, 0]]);
  });

  it('close() waits one lease at most for a handler that never settles; its entry is delivered again', async () => {
    const warnings: string[] = [];
    const lease = { ...FAST, pollMs: 50, leaseMs: 600 };
    const consent = open({ outbox: lease, logger: { warn: (message: string) => void warnings.push(message), error() {} } });
    let started!: () => void;
    const began = new Promise<void>((resolve) => { started = resolve; });
    consent.on('change', () => {
      started();
      return new Promise<void>(() => undefined);
    }, { name: 'stuck' });
    await consent.ready();
    await consent.record('someone', { analytics: 'granted' });
    await began;
    await consent.close();
    expect(warnings.join('\n')).to.include('had not settled 600 ms (outbox.leaseMs) after close()');
    // Another instance (or this one, restarted) delivers it once the lease has lapsed.
    const again = open({ outbox: lease });
    const delivered: string[] = [];
    again.on('change', (p) => void delivered.push(p.subjectId), { name: 'stuck' });
    await again.ready();
    await waitUntil(() => delivered.length === 1, 'the entry delivered again', 5_000);
    expect(delivered).to.deep.equal(['someone']);
  });

  it('two instances on one SQLite file never deliver an entry twice', async () => {
    const seen: string[] = [];
    const instances = [0, 1].map(() => open({}, defaultKnex(file.filename)));
    for (const instance of instances) {
      instance.on('change', async (p) => {
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(p.eventId);
      }, { name: 'mirror' });
      await instance.ready();
    }
    for (let i = 0; i < 40; i += 1) await instances[i % 2]!.record(`s${String(i)}`, { analytics: 'granted' });
    await waitUntil(async () => (await outboxRows(opened[0]!.knex)) === 0, 'every entry delivered');
    for (const instance of instances) await instance.close();
    expect(seen).to.have.length(40);
    expect(new Set(seen).size).to.equal(40);
  });
});

describe('durable handlers (outbox) with a slow store', () => {
  it('a claim that took half the lease ends the pass after its release, instead of claiming again at once', async () => {
    const tracker = new MemoryTracker();
    const leaseMs = 40;
    let claims = 0;
    let releases = 0;
    const claim = tracker.claimOutbox.bind(tracker);
    tracker.claimOutbox = async (query) => {
      claims += 1;
      const entries = await claim(query);
      // The store answers once half the lease is gone: nothing of this claim may be started.
      if (entries.length > 0) while (Date.now() < query.now + leaseMs / 2) await new Promise((resolve) => setTimeout(resolve, 5));
      return entries;
    };
    const retry = tracker.retryOutbox.bind(tracker);
    tracker.retryOutbox = (entry, availableAt) => {
      releases += 1;
      return retry(entry, availableAt);
    };
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message), error() {} };
    // Polling only when kicked: every claim counted is one the write or the pass itself made.
    const consent = createConsent({ tracker, secret: SECRET, sweep: false, outbox: { ...FAST, leaseMs, pollMs: 3_600_000 }, logger });
    consent.register({ id: 'analytics', title: 'Analytics', description: 'Usage statistics.' });
    let delivered = 0;
    consent.on('change', () => { delivered += 1; }, { name: 'mirror' });
    await consent.ready();
    await waitUntil(() => claims === 1, 'the first (empty) claim');
    await consent.record('s0', { analytics: 'granted' });
    await waitUntil(() => releases === 1, 'the entry released');
    await consent.close();
    expect({ claims, releases, delivered }).to.deep.equal({ claims: 2, releases: 1, delivered: 0 });
    expect(warnings.filter((w) => w.includes('outbox.leaseMs'))).to.have.length(1);
  });
});

describePg('durable handlers (outbox) on PostgreSQL', () => {
  it('delivers a subject\'s changes to a handler in order, across retries, without holding back others', async () => {
    const database = await createPgDatabase();
    const knex = knexFactory(pgKnexConfig(database.url));
    const consent = make(knex);
    try {
      await deliveredInOrder(consent);
    } finally {
      await consent.close();
      await knex.destroy();
      await database.drop();
    }
  });

  it('deletes delivered entries together, not with a statement each', async () => {
    const database = await createPgDatabase();
    const knex = knexFactory(pgKnexConfig(database.url));
    const consent = make(knex, { outbox: { ...FAST, pollMs: 3_600_000 } });
    try {
      const { deletions, delivered } = await deliverBacklog(consent, knex);
      expect(new Set(delivered).size).to.equal(120);
      expect(deletions).to.be.at.most(12);
    } finally {
      await consent.close();
      await knex.destroy();
      await database.drop();
    }
  });

  it('two instances on one database never deliver an entry twice to the same handler', async () => {
    const database = await createPgDatabase();
    const knexes = [0, 1].map(() => knexFactory(pgKnexConfig(database.url)));
    const instances = knexes.map((knex) => make(knex));
    const seen: Array<{ by: number; eventId: string }> = [];
    try {
      instances.forEach((instance, by) => {
        instance.on('change', async (p) => {
          await new Promise((resolve) => setImmediate(resolve));
          seen.push({ by, eventId: p.eventId });
        }, { name: 'mirror' });
      });
      for (const instance of instances) await instance.ready();
      await Promise.all(Array.from({ length: 60 }, (_, i) => instances[i % 2]!.record(`s${String(i)}`, { analytics: 'granted' })));
      await waitUntil(async () => (await outboxRows(knexes[0]!)) === 0, 'every entry delivered');
      for (const instance of instances) await instance.close();
      expect(seen).to.have.length(60);
      expect(new Set(seen.map((s) => s.eventId)).size).to.equal(60);
    } finally {
      for (const instance of instances) await instance.close();
      for (const knex of knexes) await knex.destroy();
      await database.drop();
    }
  });
});
