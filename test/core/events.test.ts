import { expect } from 'chai';
import { createConsent, MemoryTracker, type ChangePayload, type ConfirmationPayload, type Consent } from '../../lib/index';

describe('in-process events (consent.on without a name)', () => {
  let consent: Consent;
  const errors: string[] = [];

  beforeEach(async () => {
    errors.length = 0;
    consent = createConsent({
      tracker: new MemoryTracker(),
      secret: 'e'.repeat(32),
      sweep: false,
      now: () => new Date('2026-02-02T10:00:00.000Z'),
      logger: { warn() {}, error: (message) => void errors.push(message) },
    });
    consent.register([
      { id: 'analytics', title: 'Analytics', description: 'Usage statistics.' },
      { id: 'newsletter', title: 'Newsletter', description: 'Monthly email.', doubleOptIn: true },
    ]);
    await consent.ready();
  });

  afterEach(() => consent.close());

  it('emits change for every recorded event and withdrawn only for withdrawals, after the commit', async () => {
    const changes: ChangePayload[] = [];
    const withdrawn: ChangePayload[] = [];
    consent.on('change', async (payload) => {
      // The decision is committed before handlers run.
      expect((await consent.states(payload.subjectId)).analytics!.state).to.equal(payload.state);
      changes.push(payload);
    });
    consent.on('withdrawn', (payload) => void withdrawn.push(payload));
    await consent.record(42, { analytics: 'granted' }, { source: 'api' });
    await consent.record(42, { analytics: 'denied' });
    await consent.record(42, { analytics: 'denied' });
    await new Promise((resolve) => setImmediate(resolve));
    const history = (await consent.history(42)).events;
    expect(changes).to.deep.equal([
      { subjectId: '42', requirement: 'analytics', action: 'grant', state: 'granted', previous: 'unset', source: 'api', eventId: history[2]!.id, at: '2026-02-02T10:00:00.000Z' },
      { subjectId: '42', requirement: 'analytics', action: 'withdraw', state: 'denied', previous: 'granted', source: 'app', eventId: history[1]!.id, at: '2026-02-02T10:00:00.000Z' },
      { subjectId: '42', requirement: 'analytics', action: 'deny', state: 'denied', previous: 'denied', source: 'app', eventId: history[0]!.id, at: '2026-02-02T10:00:00.000Z' },
    ]);
    expect(withdrawn).to.deep.equal([changes[1]]);
  });

  it('emits confirmation with the link for a double opt-in request', async () => {
    const links: ConfirmationPayload[] = [];
    consent.on('confirmation', (payload) => void links.push(payload));
    const outcome = await consent.engine.record('ola', { newsletter: 'granted', analytics: 'granted' });
    expect(links).to.have.length(1);
    expect(links[0]).to.deep.equal({
      subjectId: 'ola', requirement: 'newsletter', version: 1, token: outcome.tokens[0]!.token,
      url: `/confirm/${outcome.tokens[0]!.token}`, expiresAt: '2026-02-04T10:00:00.000Z',
    });
  });

  it('logs a throwing or rejecting handler; the write and other handlers are unaffected', async () => {
    const seen: string[] = [];
    consent.on('change', () => {
      throw new Error('sync failure');
    });
    consent.on('change', () => Promise.reject(new Error('async failure')));
    consent.on('change', (p) => void seen.push(p.action));
    const result = await consent.record('pia', { analytics: 'granted' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(result.states.analytics!.state).to.equal('granted');
    expect(seen).to.deep.equal(['grant']);
    expect(errors).to.have.length(2);
  });
});
