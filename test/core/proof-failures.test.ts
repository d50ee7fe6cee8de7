import { expect } from 'chai';
import { createConsent, MemoryTracker } from '../../lib/index';

const SECRET = 'failure-test-secret-0123456789abcdef012345';

class FailingScans extends MemoryTracker {
  fail = false;
  override async scanEvents(query: Parameters<MemoryTracker['scanEvents']>[0]) {
    if (this.fail) throw new Error('disk on fire');
    return super.scanEvents(query);
  }
  override async heads(query: Parameters<MemoryTracker['heads']>[0]) {
    if (this.fail) return new Promise<never>(() => {});
    return super.heads(query);
  }
}

describe('proof reads when the store fails', () => {
  it('reject with store_unavailable (a failure or a page past the deadline), never a verdict', async () => {
    const tracker = new FailingScans();
    const consent = createConsent({ tracker, secret: SECRET, storeTimeoutMs: 50, logger: { warn() {}, error() {} } });
    consent.register({ id: 'a', title: 'A', description: 'A' });
    await consent.ready();
    await consent.record('ann', { a: 'granted' });
    tracker.fail = true;
    for (const call of [() => consent.verify(), () => consent.export('ann'), () => consent.stateAt('ann', 'a', Date.now())]) {
      await call().then(
        () => expect.fail('resolved'),
        (error: unknown) => expect(error).to.have.property('code', 'store_unavailable'),
      );
    }
  });
});
