import { expect } from 'chai';
import { ConsentError, createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { headerSubject, memoryLogger, REQUIREMENTS, TEST_SECRET } from '../helpers/consent-setup';

function invalidArgument(make: () => unknown, message: string): void {
  expect(make).to.throw(ConsentError, message).with.property('code', 'invalid_argument');
}

describe('the options of requireConsent() and collect()', () => {
  let consent: Consent;

  beforeEach(() => {
    consent = createConsent({ tracker: new MemoryTracker(), subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger() });
    consent.register(REQUIREMENTS);
  });
  afterEach(() => consent.close());

  it('take no options, or an object of the options they know', () => {
    expect(consent.requireConsent('analytics')).to.be.a('function');
    expect(consent.requireConsent('analytics', { redirect: '/ask' })).to.be.a('function');
    expect(consent.collect('analytics')).to.be.a('function');
    expect(consent.collect('analytics', { onMissing: () => undefined })).to.be.a('function');
  });

  it('refuse anything but an object, naming the middleware', () => {
    for (const options of [null, 'redirect', 3]) {
      invalidArgument(() => consent.requireConsent('analytics', options as never), 'requireConsent options must be an object');
      invalidArgument(() => consent.collect('analytics', options as never), 'collect options must be an object');
    }
  });

  it('refuse an unknown option, naming it and the ones there are', () => {
    invalidArgument(() => consent.requireConsent('analytics', { redirct: '/ask' } as never), 'requireConsent has no option "redirct" (only "redirect")');
    invalidArgument(() => consent.collect('analytics', { onMising: () => undefined } as never), 'collect has no option "onMising" (only "onMissing", "context", "locale")');
  });

  it('refuse a value of the wrong kind', () => {
    invalidArgument(() => consent.requireConsent('analytics', { redirect: '' }), 'requireConsent: "redirect" must be a non-empty URL or path');
    invalidArgument(() => consent.requireConsent('analytics', { redirect: 7 } as never), 'requireConsent: "redirect" must be a non-empty URL or path');
    invalidArgument(() => consent.collect('analytics', { onMissing: 'render' } as never), 'collect: "onMissing" must be a function');
  });
});
