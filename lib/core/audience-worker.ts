import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../audit/thread-priority';
import { audienceEntriesOfText } from '../tracker/audience-rows';
import type { Requirement } from '../types';
import { STATES } from '../vocabulary';
import { judgeEntries, type AudienceMatch, type JudgeKeys } from './audience-judge';
import { judgeRowsText, type RowsJudged } from './audience-row-judge';
import type { AudienceThreadAnswer } from './audience-pool';
import { lookupVerdicts, packedPseudonyms, unpackedPseudonyms, type LookupVerdicts } from './lookup-judge';

/*
 * A worker thread of `AudiencePool`: judges a page of audience rows (JSON text) with the judge of
 * the rows a store gives most often (audience-row-judge.ts), or decodes it and judges it with the
 * very code the main thread runs (`judgeEntries`), so that the main thread only passes pages on;
 * and, for `filterAllowed()`, computes a batch's pseudonyms and judges the rows read for them
 * (lookup-judge.ts).
 */

const raw = workerData as Record<keyof JudgeKeys, Uint8Array>;
const keys: JudgeKeys = { chain: Buffer.from(raw.chain), pseudonym: Buffer.from(raw.pseudonym), subjectSiv: Buffer.from(raw.subjectSiv), subject: Buffer.from(raw.subject) };

lowerThreadPriority();

interface Job {
  id: number;
  rows: string;
  requirement: Requirement;
  match: AudienceMatch;
  now: number;
}

/** `filterAllowed()`'s jobs: a batch's pseudonyms, and its verdicts from the rows read for them (see lookup-judge.ts). */
type LookupJob =
  | { id: number; kind: 'pseudonyms'; subjects: string[] }
  | { id: number; kind: 'verdicts'; rows: string; pseudonyms: string; requirement: Requirement; now: number; gpc: boolean };

function answerLookup(job: LookupJob): void {
  if (job.kind === 'pseudonyms') {
    parentPort?.postMessage({ id: job.id, answer: packedPseudonyms(keys.pseudonym, job.subjects) });
    return;
  }
  let answer: LookupVerdicts | null;
  try {
    answer = lookupVerdicts(keys.chain, job.rows, unpackedPseudonyms(job.pseudonyms), job.requirement, job.now, job.gpc);
  } catch {
    // The main thread decodes the rows itself, and fails them as it would.
    answer = null;
  }
  parentPort?.postMessage({ id: job.id, answer }, answer?.allowed ? [answer.allowed.buffer as ArrayBuffer] : []);
}

/** A page of rows decoded and judged as the main thread would. */
function judgedEntries(rows: string, requirement: Requirement, match: AudienceMatch, now: number): RowsJudged {
  const entries = audienceEntriesOfText(rows);
  return { ...judgeEntries(keys, entries, requirement, match, now), subjects: entries.length, last: entries.at(-1)?.snapshot.chain ?? null };
}

parentPort?.on('message', (job: Job | LookupJob) => {
  if ('kind' in job) {
    answerLookup(job);
    return;
  }
  const { id, rows, requirement, match, now } = job;
  let answer: AudienceThreadAnswer;
  try {
    const { members, skipped, unreadable, failure, subjects, last } = judgeRowsText(keys, rows, requirement, match, now) ?? judgedEntries(rows, requirement, match, now);
    const ends = new Uint32Array(members.length);
    const states = new Uint8Array(members.length);
    let ids = '';
    for (const [i, member] of members.entries()) {
      ids += member.subjectId;
      ends[i] = ids.length;
      states[i] = STATES.indexOf(member.state);
    }
    answer = { ids, ends, states, skipped, unreadable, failure, subjects, last };
  } catch {
    // The main thread decodes the page itself, and fails it as it would.
    answer = null;
  }
  parentPort?.postMessage({ id, answer }, answer === null ? [] : [answer.ends.buffer as ArrayBuffer, answer.states.buffer as ArrayBuffer]);
});
