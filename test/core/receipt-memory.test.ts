import { expect } from 'chai';
import { VERIFY_PAGE } from '../../lib/core/verify';
import { createConsent, MemoryTracker, verifyReceipt } from '../../lib/index';
import type { StoredEvent } from '../../lib/tracker/records';
import { intercept } from '../helpers/intercept';
import { TEXTS_REQUIREMENTS } from '../helpers/texts';

const SECRET = 'receipt-memory-secret-0123456789abcdef0123';
const quiet = { warn() {}, error() {} };

describe('receipt of a long history: a page of events held at a time', () => {
  it('finds the locale shown without keeping every event it read (memory stays bounded by a page)', async function () {
    this.timeout(60_000);
    // Pages are copies the tracker takes back once two newer pages were handed out (as a
    // driver reusing its buffers would): a receipt that kept every event of a long history in
    // memory to look at it afterwards sees them recycled.
    const handedOut: StoredEvent[][] = [];
    let pages = 0;
    const tracker = intercept(new MemoryTracker(), {
      scanEvents: (original) => async (...args: never[]) => {
        const page = ((await original(...args)) as StoredEvent[]).map((event) => ({ ...event }));
        handedOut.push(page);
        pages += 1;
        for (const old of handedOut.splice(0, Math.max(0, handedOut.length - 3))) {
          for (const event of old) event.locale = null;
        }
        return page;
      },
    });
    const consent = createConsent({ tracker, secret: SECRET, logger: quiet });
    consent.register(TEXTS_REQUIREMENTS);
    await consent.ready();

    // The German text's grant opens the history; then more than three pages of newsletter denials.
    await consent.record('long', { stats: { decision: 'granted', locale: 'de' } });
    const denials = 3 * VERIFY_PAGE + 10;
    for (let i = 0; i < denials; i += 1) await consent.record('long', { letter: 'denied' });

    pages = 0;
    const receipt = await consent.receipt('long');
    expect(verifyReceipt(receipt, consent.publicKey)).to.equal(true);
    expect(receipt.decisions.find((d) => d.requirement === 'stats')).to.include({ state: 'granted', locale: 'de' });
    // The whole history was read (and checked), page by page.
    expect(pages).to.be.at.least(4);
    await consent.close();
  });
});
