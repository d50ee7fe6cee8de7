// The global log as trackers store and read it: entries of leaves, sealed blocks and heads.

/**
 * One entry of the global log as stored: what one transaction appended. `key` orders entries
 * as the tracker seals them (opaque outside the tracker); `leaves` holds one 40-byte leaf per
 * event, in the order written (see `encodeLeaves`).
 */
export interface LogEntry {
  key: string;
  leaves: Buffer;
}

/** Where a leaf is stored: its entry's key and its place in that entry. */
export interface LeafPosition {
  entry: string;
  offset: number;
}

/**
 * A complete block of the log's tree (`BLOCK_LEAVES` leaves starting at leaf
 * `index * BLOCK_LEAVES`): its subtree hash, where its first leaf is stored and the range of the
 * event ids in it, so that proofs need neither every leaf nor a search through them.
 */
export interface LogBlock {
  index: number;
  /** Hex. */
  hash: string;
  start: LeafPosition;
  minId: string;
  maxId: string;
}

/**
 * The sealed head of the log: how many leaves it folded, the tree's root and right edge, the
 * tracker's mark (where the next seal starts), the block being filled, and the keyed seal.
 */
export interface LogHead {
  size: number;
  /** Hex. */
  root: string;
  /** The roots of the complete subtrees, largest first (hex). */
  subtrees: string[];
  /** The tracker's own position: entries beyond it are not folded yet. Opaque. */
  mark: string;
  /** The block not complete yet; null when the next leaf starts a block. */
  open: (LeafPosition & { minId: string; maxId: string }) | null;
  mac: string;
}

/**
 * What a tracker's `sealLog` drives, pure and synchronous: `begin` with the stored head (throws
 * when its seal fails), `add` each unsealed entry in the tracker's order (returns the blocks it
 * completed, to store), `end` with the tracker's new mark (returns the head to store).
 */
export interface LogFold {
  /**
   * Whether the fold may start a log that holds entries but no head (an upgrade's). A tracker
   * that reads entries in a window (entries past it are sealed later) and finds none in it,
   * with no head, stores an empty head only when this is true or the log holds no entry at all.
   */
  readonly startsLog?: boolean;
  begin(head: LogHead | null): void;
  add(entry: LogEntry): LogBlock[];
  end(mark: string): LogHead;
}

/** Options of `ConsentTracker.logBlocks`. */
export interface LogBlockQuery {
  /** Only blocks whose id range holds this event id. */
  containing?: string;
  /** Only blocks from this index on. */
  from?: number;
  limit: number;
}
