/** Options of `ConsentTracker.history`. */
export interface TrackerHistoryQuery {
  requirement?: string;
  /** Only events with a lower sequence number (the cursor). */
  beforeSeq?: number;
  limit: number;
}

/** What `ConsentTracker.subscribe` calls (see `WatchCapability`). */
export interface ChangeHandlers {
  /** A committed write changed this subject. */
  onChange(pseudonym: string): void;
  /** Changes may have been missed: forget every cached state. */
  onReset(): void;
  /**
   * Every change committed before this call was started has been reported. While this keeps
   * coming at least once per `cache.ttlMs`, cached states are kept until they change.
   */
  onSynced(): void;
  /** The feed broke: changes may go unreported until it calls `onReset()` or `onSynced()` again. */
  onError(error: unknown): void;
}

/** Options of `ConsentTracker.scanEvents`: a keyset page of events in (chain, seq) order. */
export interface EventScanQuery {
  /** Only this chain's events. */
  chain?: string;
  /** Only events after this position in (chain, seq) order (the previous page's last event). */
  after?: { chain: string; seq: number };
  limit: number;
}

/** Options of `ConsentTracker.heads`: chain heads in chain order. */
export interface HeadScanQuery {
  /** Only chains after this one. */
  after?: string;
  /** Only these chains. */
  chains?: string[];
  /** Only the chain currently linked to this pseudonym. */
  pseudonym?: string;
  limit: number;
}
