import type { LedgerEntry, LedgerHead } from '../tracker/records';
import { ledgerHeadMac, ledgerMac } from './chain';
import type { IntegrityProblem } from './verify-chain';

/**
 * Verifies the ledger of chains from its entries in `n` order. A gap means an entry (and so
 * probably its whole chain) vanished: it is named by the next entry's `prevFirstId`, or by the
 * sealed ledger head when the newest entries are gone. Pure; constant memory.
 */
export class LedgerVerifier {
  readonly problems: IntegrityProblem[] = [];
  private last: LedgerEntry | null = null;

  constructor(private readonly key: Buffer) {}

  /** Checks one entry; true when it is authentic (so its chain must exist). */
  push(entry: LedgerEntry): boolean {
    const { mac, ...fields } = entry;
    const authentic = ledgerMac(this.key, fields) === mac;
    const expected = (this.last?.n ?? 0) + 1;
    if (entry.n > expected) this.problems.push({ eventId: entry.prevFirstId ?? `ledger:${String(expected)}`, kind: 'chain_missing' });
    if (!authentic) this.problems.push({ eventId: entry.firstId, kind: 'inserted' });
    this.last = entry;
    return authentic;
  }

  end(head: LedgerHead | null): void {
    const lastN = this.last?.n ?? 0;
    if (head === null) {
      // Entries without a head: the head was removed, and with it the proof of the newest one.
      if (this.last) this.problems.push({ eventId: this.last.firstId, kind: 'chain_missing' });
      return;
    }
    if (ledgerHeadMac(this.key, head.n, head.firstId) !== head.mac) {
      this.problems.push({ eventId: head.firstId ?? `ledger:${String(head.n)}`, kind: 'chain_missing' });
    } else if (head.n > lastN) {
      this.problems.push({ eventId: head.firstId ?? `ledger:${String(head.n)}`, kind: 'chain_missing' });
    }
  }
}
