import type { LogBlock, LogEntry, LogHead, StoredEvent } from '../tracker/records';
import { IdSet } from './id-set';
import { KeyedSum } from './keyed-sum';
import { LEAF_BYTES, leafBytes, leafCount, leafId, leafNumber, type LeafSource } from './log-leaf';
import { BLOCK_LEAVES, logHeadOk } from './log-seal';
import { TreeHasher } from './tree-hasher';
import type { IntegrityProblem } from './integrity';

/** A checkpoint's claim as `verify({ checkpoint })` checks it: the root of the first `size` leaves. */
export interface CheckpointClaim {
  size: number;
  root: string;
}

/** The keys of the log's checks. */
export interface LogKeys {
  log: Buffer;
  logSum: Buffer;
}

/**
 * Checks the global log against the stored events, from two streams read in any interleaving:
 * `event()` for every stored event (in chain order, as the chains are checked) and `entry()`
 * for every log entry in sealing order, the log read to its end after the events. Then `end()`:
 *
 * - the tree recomputed over the first `head.size` leaves must have the sealed head's root (and
 *   the head its seal), and every stored block must be the subtree it claims;
 * - every stored event must be a leaf of the log exactly once, and every leaf a stored event:
 *   an event the log lacks, or a logged event that is gone, is a `rollback` named by its id (a
 *   chain removed whole, or a subject's newest events removed and its head put back);
 * - with a checkpoint, the root of its first `size` leaves must be its root (`rollback`
 *   otherwise, or when the log is shorter).
 *
 * Writes may go on meanwhile: a leaf beyond the sealed head (written after the seal that
 * preceded the check) may name an event the events' scan passed before it was written, so only
 * sealed leaves must be stored events; every stored event must be logged, sealed or not.
 *
 * Ids are compared through sparse bitmaps, the leaves' contents through keyed sums, so memory
 * grows with the span of event ids (a bit each) and the leaves written during the check, not
 * with the number of events. The tree is recomputed by a `TreeHasher` (on a worker thread
 * for a large log): `close()` stops it when the check is abandoned.
 */
export class LogVerifier {
  readonly problems: IntegrityProblem[] = [];
  private readonly stored = new IdSet();
  private readonly logged = new IdSet();
  private readonly sealed = new IdSet();
  /** Leaves beyond the sealed head: written while the check ran (or not sealed yet). */
  private readonly later: Buffer[] = [];
  private readonly storedSum: KeyedSum;
  private readonly loggedSum: KeyedSum;
  private readonly tree: TreeHasher;
  /** Leaves read so far. */
  private size = 0;
  /** Stored blocks of the sealed tree, in the order read. */
  private readonly storedBlocks: LogBlock[] = [];

  /**
   * `headless`: the log may have no head yet (a store upgraded from a release without the log,
   * before it is sealed); otherwise a log with entries or a store with events and no head lost it.
   */
  constructor(
    private readonly keys: LogKeys,
    private readonly head: LogHead | null,
    private readonly checkpoint: CheckpointClaim | null = null,
    private readonly headless = false,
  ) {
    this.storedSum = new KeyedSum(keys.logSum);
    this.loggedSum = new KeyedSum(keys.logSum);
    this.tree = new TreeHasher({ sealedSize: head?.size ?? 0, claimSize: checkpoint?.size ?? null });
  }

  /** Leaves read so far. */
  get leavesRead(): number {
    return this.size;
  }

  /** Leaves under the sealed head the check started from. */
  get sealedSize(): number {
    return this.head?.size ?? 0;
  }

  /** One stored event. */
  event(event: Pick<StoredEvent, 'id' | 'hash'> & LeafSource): void {
    this.stored.add(event.id);
    this.storedSum.addEvent(event);
  }

  /**
   * Reports an entry whose stored leaves are not whole 40-byte leaves (bytes added or cut
   * behind the library's back): its whole leaves are checked as usual, the rest would shift the
   * leaves an inclusion proof reads across entries.
   */
  wholeLeaves(entry: LogEntry): void {
    if (entry.leaves.length % LEAF_BYTES !== 0) this.problems.push({ eventId: `log:${String(this.size)}`, kind: 'modified' });
  }

  /** The next log entry in sealing order, or its leaves [from, to) (the next slice of it). */
  entry(entry: LogEntry, from = 0, to = leafCount(entry.leaves)): void {
    const sealedSize = this.head?.size ?? 0;
    for (let i = from; i < to; i += 1) {
      const index = this.size;
      this.size += 1;
      // The id as a number (below 2^48) or, beyond, as the text the sets take.
      const n = leafNumber(entry.leaves, i);
      const id = n === null ? leafId(entry.leaves, i) : '';
      if (!(n === null ? this.logged.add(id) : this.logged.addNumber(n))) this.problems.push({ eventId: `log:${String(index)}`, kind: 'inserted' });
      if (index < sealedSize) {
        if (n === null) this.sealed.add(id);
        else this.sealed.addNumber(n);
        this.loggedSum.addAt(entry.leaves, i * LEAF_BYTES);
      } else {
        this.later.push(Buffer.from(leafBytes(entry.leaves, i)));
      }
    }
    this.tree.push(entry.leaves, from, to);
  }

  /** A stored block, checked at the end against the subtree the recomputed tree has at its place. */
  block(block: LogBlock): void {
    // Sealed after the head this check started from (a seal ran meanwhile): checked next time.
    if ((block.index + 1) * BLOCK_LEAVES > (this.head?.size ?? 0)) return;
    this.storedBlocks.push(block);
  }

  /** Stops the tree's thread, if any (a check abandoned half-way). */
  close(): void {
    this.tree.close();
  }

  /**
   * The findings, once both streams (and the blocks) have been read. `named`: events the chains'
   * check already reports (a deleted or forged event is not reported twice); `chainsOk`: the
   * chains verified, so that leaves and events must match byte for byte.
   */
  async end(named: ReadonlySet<string> = new Set(), chainsOk = true): Promise<IntegrityProblem[]> {
    const tree = await this.tree.finish();
    const problems = this.problems;
    for (const block of this.storedBlocks) {
      const computed = tree.blocks.get(block.index);
      tree.blocks.delete(block.index);
      if (computed !== block.hash) problems.push({ eventId: `log:${String(block.index * BLOCK_LEAVES)}`, kind: 'modified' });
    }
    const head = this.head;
    if (head !== null && (!logHeadOk(this.keys.log, head) || tree.sealedRoot !== head.root)) {
      // The log or its head was changed or rolled back behind the library's back.
      problems.push({ eventId: 'log', kind: 'rollback' });
    } else if (head === null && !this.headless && (this.size > 0 || this.stored.size > 0)) {
      // Deleted: the library seals even an empty log, and a new head over what is left would
      // vouch for whatever was removed with the old one.
      problems.push({ eventId: 'log', kind: 'rollback' });
    }
    // A complete block of the sealed tree that is not stored: proofs could not be built.
    for (const index of tree.blocks.keys()) problems.push({ eventId: `log:${String(index * BLOCK_LEAVES)}`, kind: 'deleted' });
    for (const id of this.stored.missingFrom(this.logged)) if (!named.has(id)) problems.push({ eventId: id, kind: 'rollback' });
    for (const id of this.sealed.missingFrom(this.stored)) if (!named.has(id)) problems.push({ eventId: id, kind: 'rollback' });
    // The leaves written meanwhile whose events the scan saw count too; the others it never read.
    for (const leaf of this.later) if (this.stored.has(leafId(leaf, 0))) this.loggedSum.add(leaf);
    if (chainsOk && problems.length === 0 && this.storedSum.digest() !== this.loggedSum.digest()) problems.push({ eventId: 'log', kind: 'modified' });
    const claim = this.checkpoint;
    if (claim !== null && (claim.size > tree.size || tree.claimedRoot !== claim.root)) {
      problems.push({ eventId: `checkpoint:${String(claim.size)}`, kind: 'rollback' });
    }
    return problems;
  }
}
