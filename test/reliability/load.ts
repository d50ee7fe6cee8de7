import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Knex } from 'knex';
import type { Express } from 'express';
import { decodeRecords, nextLapse } from '../../lib/tracker/record-blob';
import { allStoredRecords } from '../helpers/records';

/** One write sent over HTTP: a PUT with a unique note, or a DELETE (which has no body). */
export interface Write {
  subject: string;
  requirement: string;
  kind: 'granted' | 'denied' | 'delete';
  note: string | null;
}

/** What the server answered to one write. */
export interface Answer extends Write {
  status: number;
  body: unknown;
}

/** Serves `app` on a loopback port; `close()` stops it. */
export async function listen(app: Express): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => { resolve(s); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${String(port)}/consent`,
    close: () => new Promise<void>((resolve) => server.close(() => { resolve(); })),
  };
}

/** Sends one write through real HTTP and records the answer (a network error counts as status 0). */
export async function send(base: string, write: Write): Promise<Answer> {
  const url = `${base}/me/${encodeURIComponent(write.requirement)}`;
  const headers: Record<string, string> = { 'x-test-user': write.subject };
  let init: RequestInit = { method: 'DELETE', headers };
  if (write.kind !== 'delete') {
    headers['content-type'] = 'application/json';
    init = { method: 'PUT', headers, body: JSON.stringify({ decision: write.kind, note: write.note }) };
  }
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    return { ...write, status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  } catch {
    return { ...write, status: 0, body: null };
  }
}

/** `count` writes for one subject and requirement, cycling grant, withdraw (DELETE) and deny. */
export function writesFor(subject: string, requirement: string, count: number, tag = ''): Write[] {
  const kinds: Write['kind'][] = ['granted', 'delete', 'granted', 'denied'];
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length] as Write['kind'];
    return { subject, requirement, kind, note: kind === 'delete' ? null : `${tag}${subject}/${requirement}/${String(i)}/${String(Math.random())}` };
  });
}

interface EventLike {
  requirement: string;
  state: string;
  note: string | null;
}

/**
 * Checks one subject and requirement after a load: every acknowledged PUT's note is in the
 * history exactly once, every acknowledged DELETE has its own note-less event, nothing
 * unacknowledged slipped in twice, and the current state is the newest event's.
 */
export function expectAcknowledgedOnce(answers: Answer[], events: EventLike[], currentState: string): void {
  const acked = answers.filter((a) => a.status >= 200 && a.status < 300);
  const notes = events.map((e) => e.note);
  for (const answer of acked.filter((a) => a.note !== null)) {
    expect(notes.filter((n) => n === answer.note), `note ${String(answer.note)}`).to.have.length(1);
  }
  const ackedDeletes = acked.filter((a) => a.kind === 'delete').length;
  const sentDeletes = answers.filter((a) => a.kind === 'delete').length;
  const nullNotes = notes.filter((n) => n === null).length;
  expect(nullNotes).to.be.within(ackedDeletes, sentDeletes);
  const sentNotes = new Set(answers.map((a) => a.note));
  for (const note of notes) if (note !== null) expect(sentNotes.has(note), `stray note ${note}`).to.equal(true);
  expect(new Set(notes.filter((n) => n !== null)).size).to.equal(notes.filter((n) => n !== null).length);
  expect(events[0]?.state, 'newest event is the current state').to.equal(currentState);
}

/**
 * Checks the tables themselves: one current record per (chain, requirement), contiguous sequences.
 * All reads see one snapshot (a repeatable-read transaction on PostgreSQL, a read transaction
 * on SQLite): a write that outlived its request may commit while the check runs.
 */
export async function expectTablesIntact(knex: Knex): Promise<void> {
  const postgres = /^(pg|postgres|postgresql)$/.test(String(knex.client.config.client));
  await knex.transaction((trx) => expectSnapshotIntact(trx), postgres ? { isolationLevel: 'repeatable read' } : {});
}

/** A chain key as stored (bytes) in a form that compares and prints. */
const keyOf = (chain: Buffer | string): string => (Buffer.isBuffer(chain) ? chain.toString('hex') : chain);

async function expectSnapshotIntact(knex: Knex): Promise<void> {
  // A subject's records are in its row (decoding fails for two records of one requirement:
  // counted here all the same).
  const records = await allStoredRecords(knex);
  const perKey = new Map<string, number>();
  for (const r of records) perKey.set(`${r.chain}/${r.requirement}`, (perKey.get(`${r.chain}/${r.requirement}`) ?? 0) + 1);
  expect([...perKey].filter(([, n]) => n > 1)).to.deep.equal([]);
  const rows: Array<{ chain: Buffer; seq: number | string }> = await knex('consent_events').select('chain', 'seq').orderBy(['chain', 'seq']);
  const byChain = new Map<string, number[]>();
  for (const row of rows) byChain.set(keyOf(row.chain), [...(byChain.get(keyOf(row.chain)) ?? []), Number(row.seq)]);
  // A head's position is its newest event's.
  const heads: Array<{ chain: Buffer; seq: number | string }> = await knex('consent_subjects as s')
    .leftJoin('consent_events as e', 'e.id', 's.head_id')
    .select('s.chain', knex.raw('coalesce(e.seq, 0) as seq'));
  for (const head of heads) {
    const seqs = byChain.get(keyOf(head.chain)) ?? [];
    expect(seqs, `chain ${keyOf(head.chain)}`).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(Number(head.seq)).to.equal(seqs.length);
  }
  // Every event belongs to a subject row, and every record to a chain with events of its requirement.
  expect([...byChain.keys()].every((chain) => heads.some((h) => keyOf(h.chain) === chain))).to.equal(true);
  const withEvents: Array<{ chain: Buffer; requirement: string }> = await knex('consent_events').distinct('chain', 'requirement');
  const eventKeys = new Set(withEvents.map((e) => `${keyOf(e.chain)}/${e.requirement}`));
  const orphans = records.filter((r) => !eventKeys.has(`${r.chain}/${r.requirement}`)).map((r) => `${r.chain}/${r.requirement}`);
  expect(orphans).to.deep.equal([]);
  await expectLapsesMatchRecords(knex);
  expectStatesMatchNewestEvents(records, await knex('consent_events').select('chain', 'requirement', 'action', 'seq'));
}

/** Each subject row's `lapse_at` is the one its records imply: no write is half applied. */
async function expectLapsesMatchRecords(knex: Knex): Promise<void> {
  const subjects: Array<{ chain: Buffer; records: Buffer | null; lapse_at: number | string | null }> = await knex('consent_subjects').select('chain', 'records', 'lapse_at');
  for (const row of subjects) {
    const lapse = row.lapse_at === null ? null : Number(row.lapse_at);
    expect(lapse, `lapse of ${keyOf(row.chain)}`).to.equal(nextLapse(decodeRecords(row.records)));
  }
}

const DECISION_OF: Record<string, string> = { grant: 'granted', deny: 'denied', withdraw: 'denied' };

/** Each current record holds the decision of its newest event: no write is half applied. */
function expectStatesMatchNewestEvents(
  states: ReadonlyArray<{ chain: string; requirement: string; decision: string | null }>,
  events: ReadonlyArray<{ chain: Buffer; requirement: string; action: string; seq: number | string }>,
): void {
  const newest = new Map<string, { action: string; seq: number }>();
  for (const e of events) {
    const key = `${keyOf(e.chain)}/${e.requirement}`;
    if ((newest.get(key)?.seq ?? 0) < Number(e.seq)) newest.set(key, { action: e.action, seq: Number(e.seq) });
  }
  expect(newest.size).to.equal(states.length);
  for (const row of states) {
    const action = newest.get(`${row.chain}/${row.requirement}`)?.action as string;
    if (action in DECISION_OF) expect(row.decision, `${row.chain}/${row.requirement}`).to.equal(DECISION_OF[action]);
  }
}
