import { expect } from 'chai';
import { createConsent, ConsentError, MemoryTracker, type Consent } from '../../lib/index';

async function open(): Promise<Consent> {
  const consent = createConsent({ tracker: new MemoryTracker(), secret: 'b'.repeat(32) });
  consent.register([{ id: 'a', title: 'A', description: 'A' }, { id: 'b', title: 'B', description: 'B' }]);
  await consent.ready();
  return consent;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ConsentError);
    expect((error as ConsentError).status).to.be.a('number');
    return (error as ConsentError).code;
  }
  throw new Error('expected a ConsentError');
}

const deep = (levels: number): Record<string, unknown> => (levels <= 1 ? {} : { n: deep(levels - 1) });

describe('bad input to the library API', () => {
  it('refuses bad subject ids with invalid_subject and writes nothing', async () => {
    const consent = await open();
    const subjects: unknown[] = ['', 'x'.repeat(257), { id: 'a' }, ['a'], null, undefined, 1.5, Number.MAX_SAFE_INTEGER + 2, true];
    for (const subject of subjects) {
      expect(await codeOf(consent.record(subject as string, { a: 'granted' })), String(subject)).to.equal('invalid_subject');
      expect(await codeOf(consent.states(subject as string))).to.equal('invalid_subject');
      expect(await codeOf(consent.history(subject as string))).to.equal('invalid_subject');
      expect(await codeOf(consent.isAllowed(subject as string, 'a'))).to.equal('invalid_subject');
    }
    expect((await consent.history('x'.repeat(256))).events).to.deep.equal([]);
  });

  it('refuses bad decisions with invalid_argument and writes nothing', async () => {
    const consent = await open();
    const batches: unknown[] = [
      {}, [], 'granted', null, { a: 'yes' }, { a: true }, { a: { decision: 'maybe' } },
      { a: { decision: 'granted', version: 0 } }, { a: { decision: 'granted', colour: 'red' } },
      { a: 'granted', b: 'nope' },
      Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`r${String(i)}`, 'granted'])),
    ];
    for (const batch of batches) {
      expect(await codeOf(consent.record('s', batch as never)), JSON.stringify(batch)).to.equal('invalid_argument');
    }
    expect((await consent.history('s')).events).to.deep.equal([]);
  });

  it('refuses unknown ids with unknown_requirement', async () => {
    const consent = await open();
    expect(await codeOf(consent.record('s', { nope: 'granted' }))).to.equal('unknown_requirement');
    expect(await codeOf(consent.record('s', { 'Not An Id': 'granted' }))).to.equal('unknown_requirement');
    expect(await codeOf(consent.isAllowed('s', 'nope'))).to.equal('unknown_requirement');
    expect((await consent.history('s')).events).to.deep.equal([]);
  });

  it('refuses oversized, too deep or prototype-polluting data and bad meta', async () => {
    const consent = await open();
    const metas: unknown[] = [
      { data: { big: 'x'.repeat(5000) } },
      { data: deep(9) },
      { data: JSON.parse('{"__proto__":{"admin":true}}') },
      { data: { nested: JSON.parse('{"x":{"__proto__":1}}') } },
      { data: { constructor: { prototype: 1 } } },
      { data: { list: [{ prototype: 1 }] } },
      { data: [1, 2] },
      { data: 'text' },
      { note: 'x'.repeat(501) },
      { source: 'web' },
      { actor: 5 },
      { unknown: 1 },
      'meta',
    ];
    for (const meta of metas) {
      expect(await codeOf(consent.record('s', { a: 'granted' }, meta as never)), JSON.stringify(meta)).to.equal('invalid_argument');
    }
    expect((await consent.history('s')).events).to.deep.equal([]);
    expect(({} as Record<string, unknown>).admin, 'no prototype was polluted').to.equal(undefined);
    await consent.record('s', { a: 'granted' }, { data: deep(8), note: 'x'.repeat(500), source: 'import', actor: 'job' });
    expect((await consent.history('s')).events[0]?.data).to.deep.equal(deep(8));
  });

  it('refuses bad history options with invalid_argument', async () => {
    const consent = await open();
    for (const options of [{ limit: 0 }, { limit: 201 }, { limit: 1.5 }, { cursor: 'not-a-cursor' }, { cursor: 'czA' }, { requirement: 5 }]) {
      expect(await codeOf(consent.history('s', options as never)), JSON.stringify(options)).to.equal('invalid_argument');
    }
  });
});
