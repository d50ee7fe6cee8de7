/** Options of `ConsentTracker.history`. */
export interface TrackerHistoryQuery {
  requirement?: string;
  /** Only events with a lower sequence number (the cursor). */
  beforeSeq?: number;
  limit: number;
}

/** What `ConsentTracker.subscribe` calls. */
export interface ChangeHandlers {
  onChange(pseudonym: string): void;
  onReset(): void;
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
