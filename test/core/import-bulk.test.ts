import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { planBatch } from '../../lib/state/plan';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'bulk-import-secret-0123456789abcdef01234';
const quiet = { warn() {}, error() {} };
const AT = Date.parse('2025-01-01T00:00:00.000Z');
// Past every chunk boundary of a bulk statement in one batch of 10,000: events, records,
// subject rows and heads on SQLite; events and records on PostgreSQL.
const SUBJECTS = 6000;

function newConsent(knex: Knex): Consent {
  const consent = createConsent({ knex, secret: SECRET, logger: quiet });
  consent.register([
    { id: 'a', title: 'A', description: 'A' },
    { id: 'b', title: 'B', description: 'B' },
  ]);
  return consent;
}

/** `a` granted by everyone, then `b` (every third denies), then a withdrawal of `a` by every seventh of the first 700. */
function* decisions(): Generator<Record<string, unknown>> {
  for (let i = 0; i < SUBJECTS; i += 1) yield { subjectId: `s${String(i)}`, requirement: 'a', decision: 'granted', at: AT };
  for (let i = 0; i < SUBJECTS; i += 1) {
    yield { subjectId: `s${String(i)}`, requirement: 'b', decision: i % 3 === 0 ? 'denied' : 'granted', at: AT + 1 };
  }
  for (let i = 0; i < 100; i += 1) yield { subjectId: `s${String(i * 7)}`, requirement: 'a', decision: 'denied', at: AT + 2 };
}

async function timeline(consent: Consent, subject: string): Promise<string[]> {
  const { events } = await consent.history(subject, { limit: 100 });
  return events.reverse().map((e) => `${e.requirement}:${e.action}:${e.source}`);
}

describeEachDatabase('consent.import() in bulk', (open) => {
  let db: TestDatabase;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    consent = newConsent(db.knex);
    await consent.ready();
  });
  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('writes large batches over new, existing and erased subjects as one write per subject would', async () => {
    await consent.record('s10', { a: 'granted', b: 'granted' });
    await consent.record('s20', { a: 'denied' });
    await consent.record('s30', { a: 'granted' });
    await consent.erase('s30');

    expect(await consent.import(decisions(), { batchSize: 10_000 })).to.deep.equal({ imported: 12_100 });

    const verified = await consent.verify();
    expect(verified.problems.slice(0, 5)).to.deep.equal([]);
    // 12,100 imported; s10 two, s20 one, s30 its grant and its erasure.
    expect(verified).to.include({ ok: true, checked: 12_105 });
    expect(await timeline(consent, 's0')).to.deep.equal(['a:grant:import', 'b:deny:import', 'a:withdraw:import']);
    expect(await timeline(consent, 's10')).to.deep.equal(['a:grant:app', 'b:grant:app', 'a:grant:import', 'b:grant:import']);
    expect(await timeline(consent, 's20')).to.deep.equal(['a:deny:app', 'a:grant:import', 'b:grant:import']);
    // The erased subject starts a new chain: nothing of the erased one comes back.
    expect(await timeline(consent, 's30')).to.deep.equal(['a:grant:import', 'b:deny:import']);
    expect(await timeline(consent, 's5999')).to.deep.equal(['a:grant:import', 'b:grant:import']);

    const s0 = await consent.states('s0');
    expect([s0.a?.state, s0.b?.state]).to.deep.equal(['denied', 'denied']);
    const s4001 = await consent.states('s4001');
    expect([s4001.a?.state, s4001.b?.state, s4001.a?.decidedAt]).to.deep.equal(['granted', 'granted', new Date(AT).toISOString()]);
    const counts = await db.knex('consent_subjects').whereNotNull('pseudonym').count({ n: '*' });
    expect(Number(counts[0]?.n)).to.equal(SUBJECTS);
    expect(Number((await db.knex('consent_subjects').count({ n: '*' }))[0]?.n)).to.equal(SUBJECTS + 1);

    // Single writes after the import continue its chains, ids and log.
    await consent.record('s5999', { a: 'denied' });
    await consent.record('newcomer', { b: 'granted' });
    expect(await consent.verify()).to.include({ ok: true, checked: 12_107 });
    expect(await consent.verify({ subjectId: 's5999' })).to.include({ ok: true, checked: 3 });
  });

  it('continues chains and the log across many small batches', async () => {
    const items = [...decisions()].slice(0, 400).concat([...decisions()].slice(SUBJECTS, SUBJECTS + 400));
    expect(await consent.import(items, { batchSize: 37 })).to.deep.equal({ imported: 800 });
    await consent.import([{ subjectId: 's1', requirement: 'a', decision: 'denied', at: AT + 5 }]);
    expect(await consent.verify()).to.include({ ok: true, checked: 801 });
    expect(await timeline(consent, 's1')).to.deep.equal(['a:grant:import', 'b:grant:import', 'a:withdraw:import']);
    expect((await consent.states('s399')).b?.state).to.equal('denied');
  });

  it('writes any text of a batch verbatim: quotes, backslashes, question marks', async () => {
    const { engine } = consent;
    const note = "it's \\ \"quoted\" ? ?? $1 '); drop table x; --";
    const ctx = { now: AT, source: 'admin' as const, actor: "o'neil?", note, data: '{"q":"?"}', ip: null, userAgent: null, personalSalt: 'ab'.repeat(16), gpc: false };
    const pseudonyms = ['q1', 'q2'].map((s) => engine.pseudonym(s));
    const requirement = engine.registry.require('a');
    await engine.tracker.writeMany?.(pseudonyms, (_p, snapshot) => planBatch(snapshot, [{ requirement, decision: 'granted' }], ctx, engine.derivedKeys.chain).plan);
    const { events } = await consent.history('q2');
    expect(events[0]).to.include({ note, actor: "o'neil?", source: 'admin' });
    expect(events[0]?.data).to.deep.equal({ q: '?' });
    expect(await consent.verify()).to.include({ ok: true, checked: 2 });
  });
});
