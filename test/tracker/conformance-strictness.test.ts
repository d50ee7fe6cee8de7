import { expect } from 'chai';
import { AUDIENCE_ROW_COLUMNS, MemoryTracker, type AudienceQuery, type AudienceRowsPage, type ChangeHandlers, type ClaimedOutboxEntry, type SubjectSnapshot, type WritePlan } from '../../lib/tracker';
import { trackerConformance } from '../../lib/testing';

type Body = () => Promise<void>;

/** Declares the conformance suite for `create` with a stand-in runner; resolves to the titles of the tests that fail. */
async function failingTests(create: () => MemoryTracker): Promise<string[]> {
  const scope = globalThis as unknown as { describe: unknown; it: unknown };
  const saved = { describe: scope.describe, it: scope.it };
  const tests: Array<{ title: string; body: Body }> = [];
  scope.describe = (_title: string, body: () => void) => { body(); };
  scope.it = (title: string, body: Body) => { tests.push({ title, body }); };
  try {
    trackerConformance('under test', { create });
  } finally {
    Object.assign(scope, saved);
  }
  const failed: string[] = [];
  for (const test of tests) await test.body().catch(() => failed.push(test.title));
  return failed;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** A memory tracker that gives its audience pages as rows too, changed by `change`. */
function rowsTracker(change: (page: AudienceRowsPage) => AudienceRowsPage): MemoryTracker {
  return new (class extends MemoryTracker {
    async audienceRows(query: AudienceQuery): Promise<AudienceRowsPage> {
      const entries = await this.audience(query);
      const rows = entries.flatMap(({ snapshot: s, sealedSubject }) => {
        const subject = { chain: s.chain, pseudonym: s.pseudonym, seq: s.seq, head_hash: s.hash, head_id: s.headId, head_mac: s.mac, sealed_subject: sealedSubject };
        const records = s.records.length > 0 ? s.records : [null];
        return records.map((r) => {
          const record = { requirement: r?.requirement ?? null, decision: r?.decision ?? null, version: r?.version ?? null, decided_at: r?.decidedAt ?? null, expires_at: r?.expiresAt ?? null, gpc_opt_in: r?.gpcOptIn ?? false, pending_version: r?.pendingVersion ?? null, pending_at: r?.pendingAt ?? null, pending_expires_at: r?.pendingExpiresAt ?? null, pending_token: r?.pendingToken ?? null, expiry_recorded: r?.expiryRecorded ?? false };
          const values: Record<string, unknown> = { ...subject, ...record };
          return AUDIENCE_ROW_COLUMNS.map((column) => values[column]);
        });
      });
      return change({ rows: JSON.stringify(rows), last: entries.at(-1)?.snapshot.chain ?? null, full: entries.length === query.limit });
    }
  })();
}
type Planner<T> = (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T };
type Row = { handler: string; availableAt: number; lockedUntil: number | null; claim: string | null } & Omit<ClaimedOutboxEntry, 'claim'>;
const rowsOf = (tracker: MemoryTracker) => [...(tracker.outbox as unknown as { rows: Map<string, Row> }).rows.values()];

/** A watching tracker that confirms onSynced() every 10 ms but reports each write 200 ms late (after a reset first, with `resetFirst`). */
function lateReporter(resetFirst: boolean): MemoryTracker {
  return new (class extends MemoryTracker {
    private notify: ((pseudonym: string) => void) | null = null;
    subscribe(handlers: ChangeHandlers) {
      if (resetFirst) handlers.onReset();
      const timer = setInterval(() => { handlers.onSynced(); }, 10);
      this.notify = (pseudonym) => setTimeout(() => { handlers.onChange(pseudonym); }, 200);
      return Promise.resolve(() => {
        clearInterval(timer);
        return Promise.resolve();
      });
    }
    override async write<T>(pseudonym: string, plan: Planner<T>) {
      const result = await super.write(pseudonym, plan);
      this.notify?.(pseudonym);
      return result;
    }
  })();
}

// Trackers that break one promise of the contract each: the suite must fail every one.
const BROKEN: Record<string, () => MemoryTracker> = {
  'reads expiryRecorded back as false': () => new (class extends MemoryTracker {
    override async current(pseudonym: string) {
      const snapshot = await super.current(pseudonym);
      return snapshot && { ...snapshot, records: snapshot.records.map((r) => ({ ...r, expiryRecorded: false })) };
    }
  })(),
  'drops an event\'s context': () => new (class extends MemoryTracker {
    override async history(pseudonym: string, query: Parameters<MemoryTracker['history']>[1]) {
      return (await super.history(pseudonym, query)).map((e) => ({ ...e, context: null }));
    }
  })(),
  'plans on a head read before the lock (an existing subject)': () => new (class extends MemoryTracker {
    override async write<T>(pseudonym: string, plan: Planner<T>) {
      const before = await super.current(pseudonym);
      await tick();
      return super.write(pseudonym, (s) => plan(before ?? s));
    }
  })(),
  'claims entries of handlers not asked for': () => new (class extends MemoryTracker {
    override claimOutbox(query: Parameters<MemoryTracker['claimOutbox']>[0]) {
      return super.claimOutbox({ ...query, handlers: rowsOf(this).map((r) => r.handler) });
    }
  })(),
  'claims by a read, then an update': () => new (class extends MemoryTracker {
    override async claimOutbox(query: Parameters<MemoryTracker['claimOutbox']>[0]) {
      const free = rowsOf(this)
        .filter((r) => query.handlers.includes(r.handler) && r.availableAt <= query.now && (r.lockedUntil === null || r.lockedUntil < query.now))
        .slice(0, query.limit);
      await tick();
      return free.map((r) => {
        Object.assign(r, { lockedUntil: query.now + query.leaseMs, claim: `c${String(Math.random())}` });
        return { id: r.id, handler: r.handler, event: r.event, eventId: r.eventId, payload: r.payload, attempts: r.attempts, claim: r.claim as string };
      });
    }
  })(),
  'answers snapshots() in reverse': () => new (class extends MemoryTracker {
    override async snapshots(pseudonyms: readonly string[]) {
      return (await super.snapshots(pseudonyms)).reverse();
    }
  })(),
  'answers snapshots() from a cache of earlier answers': () => new (class extends MemoryTracker {
    private readonly seen = new Map<string, SubjectSnapshot | null>();
    override async snapshots(pseudonyms: readonly string[]) {
      const read = await super.snapshots(pseudonyms);
      return pseudonyms.map((p, i) => {
        if (!this.seen.has(p)) this.seen.set(p, read[i] ?? null);
        return this.seen.get(p) ?? null;
      });
    }
  })(),
  'confirms onSynced() before it reports a write': () => lateReporter(false),
  'resets as it starts, then confirms onSynced() before it reports a write': () => lateReporter(true),
  'says every audienceRows() page is full': () => rowsTracker((page) => ({ ...page, full: true })),
  'leaves the first row out of audienceRows()': () => rowsTracker((page) => ({ ...page, rows: JSON.stringify((JSON.parse(page.rows) as unknown[]).slice(1)) })),
  'leaves the stored subject id out of lapsedGrants()': () => new (class extends MemoryTracker {
    override async lapsedGrants(query: Parameters<MemoryTracker['lapsedGrants']>[0]) {
      return (await super.lapsedGrants(query)).map((g) => ({ ...g, sealedSubject: null }));
    }
  })(),
};

describe('the conformance suite fails broken trackers', function () {
  this.timeout(120_000);

  it('passes MemoryTracker', async () => {
    expect(await failingTests(() => new MemoryTracker())).to.deep.equal([]);
  });

  it('passes a tracker that gives its audience pages as rows too', async () => {
    expect(await failingTests(() => rowsTracker((page) => page))).to.deep.equal([]);
  });

  for (const [breakage, create] of Object.entries(BROKEN)) {
    it(`fails a tracker that ${breakage}`, async () => {
      expect(await failingTests(create)).to.have.length.above(0);
    });
  }
});
