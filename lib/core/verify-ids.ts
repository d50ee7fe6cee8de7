import type { IntegrityProblem } from '../audit/verify-chain';
import type { SealedHead } from '../tracker/records';
import { openedIds, type JudgeKeys, type SealedId } from './audience-judge';

/*
 * The subject ids stored with the chains (audiences list them): `verify()` checks that each one
 * opens for its chain and names the subject the chain is linked to, as an audience checks it
 * before listing the id. One that does not was changed or moved to another row, which would
 * drop its subject from every audience (or list someone else). Pure.
 */

/** A `subject_link` problem for each head of `page` whose stored id does not open for its link. */
export function sealedIdProblems(keys: JudgeKeys, page: readonly SealedHead[]): IntegrityProblem[] {
  const items: SealedId[] = [];
  const heads: SealedHead[] = [];
  for (const head of page) {
    // Erased (no link, no id), or no id stored (a subject from before the store kept ids).
    if (head.pseudonym === null || head.erased || typeof head.sealedSubject !== 'string') continue;
    items.push({ chain: head.chain, pseudonym: head.pseudonym, sealed: head.sealedSubject });
    heads.push(head);
  }
  if (items.length === 0) return [];
  const ids = openedIds(keys, items);
  const problems: IntegrityProblem[] = [];
  for (let i = 0; i < ids.length; i += 1) {
    const id = ids[i];
    if (typeof id === 'string') continue;
    const head = heads[i] as SealedHead;
    problems.push({ eventId: head.id ?? `${head.chain}:${String(head.seq)}`, kind: 'subject_link', chain: head.chain });
  }
  return problems;
}

/** The pages of `pages`, each checked by `sealedIdProblems` as it passes (its problems added to `problems`). */
export async function* idsChecked(pages: AsyncIterable<SealedHead[]>, keys: JudgeKeys, problems: IntegrityProblem[]): AsyncGenerator<SealedHead[]> {
  for await (const page of pages) {
    for (const problem of sealedIdProblems(keys, page)) problems.push(problem);
    yield page;
  }
}

/** `found` without the problems of chains that `named` already names (one report per chain). */
export function unnamed(found: readonly IntegrityProblem[], named: readonly IntegrityProblem[]): IntegrityProblem[] {
  const chains = new Set(named.map((p) => p.chain));
  return found.filter((p) => !chains.has(p.chain));
}
