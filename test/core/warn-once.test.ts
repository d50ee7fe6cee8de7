import { expect } from 'chai';
import { createConsent, MemoryTracker, type ConsentLogger } from '../../lib/index';

const recorder = () => {
  const warnings: string[] = [];
  return { warnings, warn: (m: string) => warnings.push(m), error() {} };
};

/** Opens `count` instances without a secret or a receipts key, each with `logger()` (or none). */
async function openMany(count: number, logger?: () => ConsentLogger): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const consent = createConsent({ tracker: new MemoryTracker(), ...(logger ? { logger: logger() } : {}) });
    consent.register({ id: 'a', title: 'A', description: 'A' });
    await consent.ready();
    await consent.close();
  }
}

describe('configuration warnings', () => {
  it('reach the default console at most once per process, however many instances open', async () => {
    const printed: unknown[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => { printed.push(args.join(' ')); };
    try {
      await openMany(3);
    } finally {
      console.warn = original;
    }
    // An earlier test in this process may already have been warned: then nothing is printed here.
    expect(printed.filter((m) => String(m).includes('"secret"')).length).to.be.at.most(1);
    expect(printed.filter((m) => String(m).includes('receipts.privateKey')).length).to.be.at.most(1);
  });

  it('reach a logger of one’s own once, and each new logger again', async () => {
    const shared = recorder();
    await openMany(3, () => shared);
    expect(shared.warnings.filter((m) => m.includes('"secret"'))).to.have.length(1);
    expect(shared.warnings.filter((m) => m.includes('receipts.privateKey'))).to.have.length(1);
    const own = [recorder(), recorder()];
    let next = 0;
    await openMany(2, () => own[next++]!);
    for (const logger of own) {
      expect(logger.warnings.filter((m) => m.includes('"secret"'))).to.have.length(1);
      expect(logger.warnings.filter((m) => m.includes('receipts.privateKey'))).to.have.length(1);
    }
  });
});
