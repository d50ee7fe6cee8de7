import { snapshotSealed } from '../audit/head-seal';
import { hmacHex } from '../audit/keys';
import { decryptEarlierSubjects, openSubjects } from '../audit/subject-keystream';
import { openEarlierSubject } from '../audit/subject-seal';
import { isAllowedNow, recordOf, stateOf } from '../state/derive';
import type { AudienceEntry } from '../tracker/audience-capability';
import type { CurrentRecord } from '../tracker/records';
import type { Requirement, State } from '../types';
import { inVisitorNamespace } from './visitor-id';

/*
 * Who of an audience page is listed: the same on the main thread and on a worker thread (see
 * audience-worker.ts), so that a listing never depends on where its pages were judged. Pure.
 */

/** The keys a page is judged with: the heads' seals, the pseudonyms, and the stored ids (this release's and earlier ones'). */
export interface JudgeKeys {
  chain: Buffer;
  pseudonym: Buffer;
  subjectSiv: Buffer;
  subject: Buffer;
}

/** What an audience matches, as `audienceFilter` checked it (the states as a list, which a thread can be sent). */
export interface AudienceMatch {
  allowed: boolean | null;
  states: readonly State[] | null;
  gpc: boolean;
}

/** One listed subject, with the state that matched (for the admin listing). */
export interface AudienceMember {
  subjectId: string;
  state: State;
}

/** A page judged: its members in page order, the counts for the summary, or the integrity failure that stops the listing. */
export interface JudgedPage {
  members: AudienceMember[];
  skipped: number;
  unreadable: number;
  /** Names the rows that failed their seal (none of the page is listed then); null when none did. */
  failure: string | null;
}

function matcher(requirement: Requirement, match: AudienceMatch): (record: CurrentRecord | undefined, now: number) => State | null {
  const { allowed, gpc } = match;
  const states = match.states === null ? null : new Set(match.states);
  return (record, now) => {
    const state = stateOf(record, requirement, now);
    if (states !== null && !states.has(state)) return null;
    if (allowed !== null && isAllowedNow(record, requirement, now, gpc) !== allowed) return null;
    return state;
  };
}

const failed = (failure: string): JudgedPage => ({ members: [], skipped: 0, unreadable: 0, failure });

/** Why an id sealed by an earlier release is refused: it opens for its chain, yet names another subject. */
const FORGED_ID = "a subject's stored id";

/** A stored id and the link it must open for: its chain (an earlier release's ids) and pseudonym. */
export interface SealedId {
  chain: string;
  pseudonym: string;
  sealed: string;
}

/**
 * The subject id an earlier release stored with `item.chain` (AES-256-GCM), null when it does
 * not open for the chain, or false when it opens yet names another subject. `decrypted` (what
 * the value decrypts to, unauthenticated) is taken when its pseudonym is the one the chain's
 * sealed head names: only the subject of the chain has it. Anything else is opened and
 * authenticated in full.
 */
function earlierSubjectId(keys: JudgeKeys, item: SealedId, decrypted: string | null): string | null | false {
  if (decrypted !== null && hmacHex(keys.pseudonym, decrypted) === item.pseudonym) return decrypted;
  const subjectId = openEarlierSubject(keys.subject, item.sealed, item.chain);
  if (subjectId === null) return null;
  return hmacHex(keys.pseudonym, subjectId) === item.pseudonym ? subjectId : false;
}

/**
 * The subject id each stored id holds, when it opens for its chain and names the subject the
 * chain is linked to (one AES pass for this release's ids, one for whatever may be an earlier
 * release's): null for one that does not open, false for an earlier release's that opens for
 * its chain yet names another subject (only a forgery does).
 */
export function openedIds(keys: JudgeKeys, items: readonly SealedId[]): Array<string | null | false> {
  const sealed = items.map((item) => item.sealed);
  const ids: Array<string | null | false> = openSubjects(keys.subjectSiv, keys.pseudonym, sealed, items.map((item) => item.pseudonym));
  const others: number[] = [];
  for (let i = 0; i < ids.length; i += 1) if (ids[i] === null) others.push(i);
  if (others.length > 0) {
    const earlier = decryptEarlierSubjects(keys.subject, others.map((i) => sealed[i] as string));
    for (const [k, i] of others.entries()) ids[i] = earlierSubjectId(keys, items[i] as SealedId, earlier[k] ?? null);
  }
  return ids;
}

/** A subject whose sealed snapshot matched, with its stored id (still sealed) and link. */
export interface Matched extends SealedId {
  state: State;
}

/**
 * The first step of judging `entries` at `now` against `requirement` (the version current then):
 * every subject's head seal must vouch for its records and link, or the page fails. Those that
 * match come with their stored id; those that match without one are `skipped`.
 */
export function sealedMatches(keys: JudgeKeys, entries: readonly AudienceEntry[], requirement: Requirement, match: AudienceMatch, now: number): { matched: Matched[]; skipped: number; failure: string | null } {
  const matches = matcher(requirement, match);
  const matched: Matched[] = [];
  let skipped = 0;
  for (const { snapshot, sealedSubject } of entries) {
    if (!snapshotSealed(keys.chain, snapshot)) return { matched: [], skipped: 0, failure: "a subject's stored records (or its link)" };
    const state = matches(recordOf(snapshot.records, requirement.id), now);
    if (state === null) continue;
    if (sealedSubject === null) skipped += 1;
    else matched.push({ chain: snapshot.chain, pseudonym: snapshot.pseudonym, state, sealed: sealedSubject });
  }
  return { matched, skipped, failure: null };
}

/**
 * The second step: the stored id of each matched subject, listed only when it opens for its
 * chain and names the subject the chain is linked to (one AES pass for this release's ids, one
 * for whatever may be an earlier release's). Those whose id does not open are `unreadable`;
 * visitors are not listed (the host has nobody to contact).
 */
export function openedMembers(keys: JudgeKeys, matched: readonly Matched[]): Omit<JudgedPage, 'skipped'> {
  const ids = openedIds(keys, matched);
  if (ids.includes(false)) return { members: [], unreadable: 0, failure: FORGED_ID };
  const members: AudienceMember[] = [];
  let unreadable = 0;
  for (let i = 0; i < matched.length; i += 1) {
    const subjectId = ids[i] ?? null;
    if (subjectId === null || subjectId === false) unreadable += 1;
    else if (!inVisitorNamespace(subjectId)) members.push({ subjectId, state: (matched[i] as Matched).state });
  }
  return { members, unreadable, failure: null };
}

/** The members of `entries`: both steps at once (see `sealedMatches` and `openedMembers`). */
export function judgeEntries(keys: JudgeKeys, entries: readonly AudienceEntry[], requirement: Requirement, match: AudienceMatch, now: number): JudgedPage {
  const { matched, skipped, failure } = sealedMatches(keys, entries, requirement, match, now);
  if (failure !== null) return failed(failure);
  return { ...openedMembers(keys, matched), skipped };
}
