import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { headSeal } from '../../lib/audit/head-seal';
import { deriveKeys, pseudonymOf } from '../../lib/audit/keys';
import { sealSubjects } from '../../lib/audit/subject-keystream';
import { judgeEntries, type AudienceMatch, type JudgeKeys } from '../../lib/core/audience-judge';
import { judgeRowsText } from '../../lib/core/audience-row-judge';
import { normalizeRequirement } from '../../lib/registry/validate';
import { AUDIENCE_ROW_COLUMNS, audienceEntriesOfText } from '../../lib/tracker/audience-rows';
import { encodeRecords } from '../../lib/tracker/record-blob';
import { emptyRecord, type CurrentRecord } from '../../lib/tracker/records';
import type { LawfulBasis, State } from '../../lib/types';
import { STATES } from '../../lib/vocabulary';

/*
 * The worker threads' judge of common rows (audience-row-judge.ts) against the general one
 * (`judgeEntries` over the decoded entries): on any page, it either leaves the page to the
 * general judge (null) or gives exactly its verdict; and on the pages a store gives, it judges.
 */

const derived = deriveKeys(randomBytes(32));
const keys: JudgeKeys = { chain: derived.chain, pseudonym: derived.pseudonym, subjectSiv: derived.subjectSiv, subject: derived.subject };
const T0 = Date.UTC(2026, 0, 1);
const time = fc.integer({ min: T0 - 1_000, max: T0 + 1_000 });
const NAMES = ['ads', 'analytics', 'newsletter', 'terms'];

const record = (requirement: string): fc.Arbitrary<CurrentRecord> =>
  fc.record({
    decision: fc.constantFrom(null, 'granted' as const, 'denied' as const),
    version: fc.option(fc.integer({ min: 1, max: 3 })),
    expiresAt: fc.option(time),
    pending: fc.option(fc.record({ version: fc.integer({ min: 1, max: 3 }), expiresAt: time, token: fc.option(fc.uint8Array({ minLength: 1, maxLength: 8 })) })),
    gpcOptIn: fc.boolean(),
    expiryRecorded: fc.boolean(),
  }).map((f): CurrentRecord => ({
    ...emptyRecord(requirement),
    decision: f.decision,
    version: f.version,
    decidedAt: f.decision === null ? null : T0 - 5_000,
    expiresAt: f.expiresAt,
    gpcOptIn: f.gpcOptIn,
    expiryRecorded: f.expiryRecorded,
    pendingVersion: f.pending?.version ?? null,
    pendingAt: f.pending === null ? null : T0 - 2_000,
    pendingExpiresAt: f.pending?.expiresAt ?? null,
    pendingToken: f.pending?.token ? Buffer.from(f.pending.token).toString('hex') : null,
  }));

/** A subject as a store holds it: its records, and whether its id is stored. */
const subject = fc.record({
  records: fc.subarray(NAMES, { minLength: 1 }).chain((names) => fc.tuple(...names.map(record))),
  stored: fc.boolean(),
  seq: fc.integer({ min: 1, max: 9 }),
  headId: fc.integer({ min: 1, max: 2 ** 40 }),
  id: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constant('visitor:v1')),
});

type Row = unknown[];
type Subject = typeof subject extends fc.Arbitrary<infer T> ? T : never;

/** The rows of subjects as the Knex tracker reads them (hex in the case given), each sealed as a write seals it. */
function rowsOf(subjects: readonly Subject[], upper: boolean): Row[] {
  const hex = (value: string): string => (upper ? value.toUpperCase() : value);
  return subjects.map((s, i) => {
    const chain = i.toString(16).padStart(16, '0');
    const pseudonym = pseudonymOf(derived, `${s.id}#${String(i)}`);
    const hash = randomBytes(32).toString('hex');
    const records = [...s.records].sort((a, b) => (a.requirement < b.requirement ? -1 : 1));
    const mac = headSeal(keys.chain, { chain, pseudonym, erased: false, seq: s.seq, hash, id: String(s.headId) }, records);
    const sealed = s.stored ? (sealSubjects(keys.subjectSiv, [`${s.id}#${String(i)}`], [pseudonym])[0] as string) : null;
    const row: Row = AUDIENCE_ROW_COLUMNS.map(() => null);
    const set = (name: (typeof AUDIENCE_ROW_COLUMNS)[number], value: unknown): void => {
      row[AUDIENCE_ROW_COLUMNS.indexOf(name)] = value;
    };
    set('chain', hex(chain));
    set('pseudonym', hex(pseudonym));
    set('seq', s.seq);
    set('head_hash', hex(hash));
    set('head_id', s.headId);
    set('head_mac', hex(mac));
    set('sealed_subject', sealed === null ? null : hex(sealed));
    set('records', hex((encodeRecords(records) as Buffer).toString('hex')));
    return row;
  });
}

const match = fc.record({
  allowed: fc.constantFrom(true, false, null),
  states: fc.option(fc.subarray([...STATES] as State[], { minLength: 1 })),
  gpc: fc.boolean(),
}) as fc.Arbitrary<AudienceMatch>;

const requirement = fc.record({
  id: fc.constantFrom(...NAMES),
  version: fc.integer({ min: 1, max: 3 }),
  lawfulBasis: fc.constantFrom<LawfulBasis>('consent', 'legitimate_interests', 'contract'),
  gpc: fc.boolean(),
}).map((r) => normalizeRequirement({ ...r, gpc: r.gpc && r.lawfulBasis !== 'contract', title: r.id, description: r.id }));

/** The general judge's verdict on a page of rows, or the error its decoding throws. */
function general(text: string, r: ReturnType<typeof normalizeRequirement>, m: AudienceMatch, now: number): unknown {
  try {
    const entries = audienceEntriesOfText(text);
    return { ...judgeEntries(keys, entries, r, m, now), subjects: entries.length, last: entries.at(-1)?.snapshot.chain ?? null };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

/** Changes a page the way a damaged or foreign store might: each gives rows the common judge must not take as they are. */
const CHANGES: Record<string, (rows: Row[]) => void> = {
  'a seal of another subject': (rows) => {
    const at = AUDIENCE_ROW_COLUMNS.indexOf('head_mac');
    if (rows.length > 1) [rows[0]![at], rows[1]![at]] = [rows[1]![at], rows[0]![at]];
  },
  'stored ids swapped': (rows) => {
    const at = AUDIENCE_ROW_COLUMNS.indexOf('sealed_subject');
    if (rows.length > 1) [rows[0]![at], rows[1]![at]] = [rows[1]![at], rows[0]![at]];
  },
  'a stored id cut short': (rows) => {
    const at = AUDIENCE_ROW_COLUMNS.indexOf('sealed_subject');
    if (typeof rows[0]![at] === 'string') rows[0]![at] = (rows[0]![at]).slice(2);
  },
  'an empty stored id': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('sealed_subject')] = '';
  },
  'records of another subject': (rows) => {
    const at = AUDIENCE_ROW_COLUMNS.indexOf('records');
    if (rows.length > 1) rows[0]![at] = rows[1]![at];
  },
  "a digit of a requirement's name as a character whose low byte is that digit's": (rows) => {
    const at = AUDIENCE_ROW_COLUMNS.indexOf('records');
    const hex = rows[0]![at] as string;
    // The name's digits start after the format byte and the name's length.
    rows[0]![at] = `${hex.slice(0, 4)}${String.fromCharCode(0x100 | hex.charCodeAt(4))}${hex.slice(5)}`;
  },
  'records that do not decode': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('records')] = '01ff';
  },
  'no records': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('records')] = null;
  },
  'rows out of order': (rows) => {
    rows.reverse();
  },
  'a subject twice': (rows) => {
    rows.push([...rows[0]!]);
  },
  'a position as text': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('seq')] = String(rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('seq')]);
  },
  'a head id as text': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('head_id')] = String(rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('head_id')]);
  },
  'no head': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('head_id')] = null;
  },
  'a hash that is not hex': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('head_hash')] = 'x"y';
  },
  'a record in a row of its own': (rows) => {
    rows[0]![AUDIENCE_ROW_COLUMNS.indexOf('requirement')] = 'ads';
  },
  'a full-length seal': (rows) => {
    const at = AUDIENCE_ROW_COLUMNS.indexOf('head_mac');
    rows[0]![at] = `${rows[0]![at] as string}${'0'.repeat(32)}`;
  },
};

describe('the audience judge of common rows (worker threads)', () => {
  it('judges the pages a store gives exactly as the general judge, in either case of hex', () => {
    fc.assert(
      fc.property(fc.array(subject, { minLength: 1, maxLength: 12 }), fc.boolean(), requirement, match, time, (subjects, upper, r, m, now) => {
        const text = JSON.stringify(rowsOf(subjects, upper));
        const fast = judgeRowsText(keys, text, r, m, now);
        expect(fast, 'judged by the common judge').to.not.equal(null);
        expect(fast).to.deep.equal(general(text, r, m, now));
      }),
      { numRuns: 300 },
    );
  });

  for (const [name, change] of Object.entries(CHANGES)) {
    it(`leaves a page to the general judge, or gives its verdict, with ${name}`, () => {
      fc.assert(
        fc.property(fc.array(subject, { minLength: 2, maxLength: 6 }), fc.boolean(), requirement, match, time, (subjects, upper, r, m, now) => {
          const rows = rowsOf(subjects, upper);
          change(rows);
          const text = JSON.stringify(rows);
          const fast = judgeRowsText(keys, text, r, m, now);
          if (fast !== null) expect(fast).to.deep.equal(general(text, r, m, now));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('never lists a subject whose seal fails: the page is left to the general judge, which fails it', () => {
    const text = JSON.stringify(
      rowsOf([{ records: [{ ...emptyRecord('ads'), decision: 'granted', version: 1, decidedAt: T0 }], stored: true, seq: 1, headId: 7, id: 'ann' }], false).map((row) => {
        const at = AUDIENCE_ROW_COLUMNS.indexOf('records');
        // Denied in the seal, granted in the row.
        return row.map((v, i) => (i === at ? (encodeRecords([{ ...emptyRecord('ads'), decision: 'granted', version: 2, decidedAt: T0 }]) as Buffer).toString('hex') : v));
      }),
    );
    const r = normalizeRequirement({ id: 'ads', title: 'Ads', description: 'Ads' });
    expect(judgeRowsText(keys, text, r, { allowed: true, states: null, gpc: false }, T0)).to.equal(null);
    expect((general(text, r, { allowed: true, states: null, gpc: false }, T0) as { failure: string }).failure).to.be.a('string');
  });

  it('reads a requirement id JSON escapes only through the general judge', () => {
    const name = 'a"b';
    const rows = rowsOf([{ records: [{ ...emptyRecord(name), decision: 'granted', version: 1, decidedAt: T0 }], stored: true, seq: 1, headId: 3, id: 'bea' }], false);
    const r = normalizeRequirement({ id: 'ads', title: 'Ads', description: 'Ads' });
    const text = JSON.stringify(rows);
    expect(judgeRowsText(keys, text, r, { allowed: null, states: null, gpc: false }, T0)).to.equal(null);
    expect(general(text, r, { allowed: null, states: null, gpc: false }, T0)).to.deep.include({ failure: null, skipped: 0 });
  });
});
