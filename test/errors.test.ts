import { inspect } from 'node:util';
import { expect } from 'chai';
import { ConsentConfigError, ConsentError, ConsentStoreError, createConsent, isConsentError } from '../lib/index';

type ErrorsModule = typeof import('../lib/errors');

// A second instance of the errors module, as a second copy of the library would have (its
// CommonJS build next to the ESM one, or another installed version).
const secondCopy = async (): Promise<ErrorsModule> => (await import(new URL('../lib/errors.ts?second-copy', import.meta.url).href)) as ErrorsModule;

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('isConsentError', () => {
  it('recognises the errors of another copy of the library, both ways', async () => {
    const other = await secondCopy();
    expect(other.ConsentError).not.to.equal(ConsentError);
    const fromLibrary = thrown(() => createConsent({ tablePrefx: 'x_' } as never));
    expect(other.isConsentError(fromLibrary)).to.equal(true);
    expect(isConsentError(new other.ConsentError('invalid_argument', 'bad'))).to.equal(true);
    expect(isConsentError(new other.ConsentStoreError('down'))).to.equal(true);
    expect(isConsentError(new other.ConsentConfigError('schema_mismatch', 'newer'))).to.equal(true);
    expect(other.isConsentError(new ConsentStoreError('down'))).to.equal(true);
  });

  it('answers false for anything else, look-alikes included', async () => {
    const other = await secondCopy();
    const lookAlike = { name: 'ConsentError', code: 'invalid_option', status: 500, message: 'x', extensions: {} };
    for (const value of [new Error('x'), lookAlike, Object.assign(new Error('x'), lookAlike), null, undefined, 'ConsentError', 0]) {
      expect(isConsentError(value), inspect(value)).to.equal(false);
      expect(other.isConsentError(value), inspect(value)).to.equal(false);
    }
  });

  it('keeps its mark out of what logs and serialisers show', () => {
    const error = new ConsentConfigError('invalid_option', 'unknown option');
    expect(Object.getOwnPropertySymbols(error)).to.deep.equal([]);
    expect(inspect(error)).not.to.include('express-consent.error');
    expect(JSON.parse(JSON.stringify(error))).to.deep.equal({ name: 'ConsentConfigError', code: 'invalid_option', status: 500, extensions: {} });
  });
});
