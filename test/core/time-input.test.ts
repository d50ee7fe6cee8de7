import { expect } from 'chai';
import { ConsentError, createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { parseInstant } from '../../lib/instant';

const SECRET = 'time-input-test-secret-0123456789abcdef01';
const T0 = Date.UTC(2025, 0, 1, 1);
const quiet = { warn() {}, error() {} };

// Each read the same on every server, whatever its time zone: none of these is an instant.
const NOT_INSTANTS = [
  '2025-01-01 01:30:00', '2025-01-01T1:30Z', '2025-02-29', '2024-02-30T00:00:00Z', '2025-13-01', '2025-00-10', '2025-01-00',
  '1', '2025', 'Jan 1 2025 02:00 GMT', 'hello 5', '', ' 2025-01-01', '2025-01-01T25:00:00Z', '2025-01-01T10:00:00+99:00', '2025-01-01T10:00:00+2400', '2025-01-01T10:00:00+02',
];

describe('times given as text', () => {
  it('parseInstant takes dates (midnight UTC) and date-times with a zone, on days that exist', () => {
    expect(parseInstant('2024-02-29')).to.equal(Date.UTC(2024, 1, 29));
    expect(parseInstant('2025-01-01T02:30:00+02:00')).to.equal(Date.UTC(2025, 0, 1, 0, 30));
    expect(parseInstant('2025-01-01T00:30Z')).to.equal(Date.UTC(2025, 0, 1, 0, 30));
    // RFC 3339's lowercase letters, and ISO 8601's offset without a colon.
    expect(parseInstant('2025-01-01t02:30:00+0200')).to.equal(Date.UTC(2025, 0, 1, 0, 30));
    expect(parseInstant('2025-01-01t00:30:00.250z')).to.equal(Date.UTC(2025, 0, 1, 0, 30, 0, 250));
    expect(parseInstant('9999-12-31T23:59:59.999Z')).to.equal(253_402_300_799_999);
    expect(parseInstant('0000-03-01')).to.equal(new Date('0000-03-01T00:00:00Z').getTime());
    // Without a zone, UTC, as a date is: never the server's own zone, which would differ between servers.
    const zone = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';
    try {
      expect(parseInstant('2025-01-01T01:30:00')).to.equal(Date.UTC(2025, 0, 1, 1, 30));
      expect(parseInstant('2025-01-01T01:30')).to.equal(Date.UTC(2025, 0, 1, 1, 30));
      expect(parseInstant('2025-07-01T01:30:00.5')).to.equal(Date.UTC(2025, 6, 1, 1, 30, 0, 500));
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    for (const text of NOT_INSTANTS) expect(parseInstant(text), text).to.equal(null);
  });

  describe('stateAt(), import() and effectiveFrom', () => {
    let consent: Consent;
    beforeEach(async () => {
      consent = createConsent({ tracker: new MemoryTracker(), secret: SECRET, now: () => new Date(T0), logger: quiet });
      consent.register({ id: 'a', title: 'A', description: 'A', expiresAfterDays: 1 });
      await consent.ready();
      await consent.record('ann', { a: 'granted' });
    });
    afterEach(() => consent.close());

    it('stateAt() answers for offsets and dates, and refuses what is not an instant', async () => {
      expect(await consent.stateAt('ann', 'a', '2025-01-01T02:59:59.999+02:00')).to.deep.include({ state: 'unset' });
      expect(await consent.stateAt('ann', 'a', '2025-01-01T03:00:00.000+02:00')).to.deep.include({ state: 'granted' });
      expect(await consent.stateAt('ann', 'a', '2025-01-02')).to.deep.include({ state: 'granted' });
      expect(await consent.stateAt('ann', 'a', '2025-01-02T01:00Z')).to.deep.include({ state: 'expired' });
      for (const text of NOT_INSTANTS) {
        const error = await consent.stateAt('ann', 'a', text).then(() => null, (e: unknown) => e);
        expect(error, text).to.be.instanceOf(ConsentError).and.to.have.property('code', 'invalid_argument');
        expect((error as Error).message).to.match(/ISO-8601 date .* date-time/);
      }
      // Epoch milliseconds as far as a Date goes (±8.64e15), and no further.
      expect(await consent.stateAt('ann', 'a', 8.64e15)).to.deep.include({ state: 'expired' });
      expect(await consent.stateAt('ann', 'a', -8.64e15)).to.deep.include({ state: 'unset' });
      for (const ms of [8.64e15 + 1, -8.64e15 - 1, 1e300, Infinity, NaN]) {
        const error = await consent.stateAt('ann', 'a', ms).then(() => null, (e: unknown) => e);
        expect(error, String(ms)).to.be.instanceOf(ConsentError).and.to.have.property('code', 'invalid_argument');
      }
    });

    it('import() refuses a time that is not ISO 8601 or on a day that does not exist, writing nothing, and reads one without a zone as UTC', async () => {
      for (const at of ['2024-12-31 10:00:00', '2024-02-30T10:00:00Z', 'Dec 31 2024']) {
        const error = await consent.import([{ subjectId: 'bob', requirement: 'a', decision: 'granted', at }]).then(() => null, (e: unknown) => e);
        expect(error, at).to.be.instanceOf(ConsentError).and.to.have.property('code', 'invalid_argument');
        expect((error as ConsentError).extensions.errors).to.deep.equal([{ pointer: '/0/at', detail: 'must be a Date, epoch milliseconds or an ISO-8601 date-time (YYYY-MM-DDThh:mm:ss.sssZ, …+02:00; UTC without a zone)' }]);
      }
      expect((await consent.states('bob')).a).to.deep.include({ state: 'unset' });
      await consent.import([{ subjectId: 'bob', requirement: 'a', decision: 'granted', at: '2024-12-31T12:00:00+02:00' }]);
      expect((await consent.states('bob')).a).to.deep.include({ decidedAt: '2024-12-31T10:00:00.000Z' });
      await consent.import([{ subjectId: 'cid', requirement: 'a', decision: 'granted', at: '2024-12-31T11:00:00' }]);
      expect((await consent.states('cid')).a).to.deep.include({ decidedAt: '2024-12-31T11:00:00.000Z' });
    });

    it('effectiveFrom refuses what is not ISO 8601 or on a day that does not exist', () => {
      for (const effectiveFrom of ['2030-03-01 00:00:00', '2030-02-29', '2030-02-30T00:00:00Z']) {
        const fresh = createConsent({ tracker: new MemoryTracker(), secret: SECRET, logger: quiet });
        expect(() => {
          fresh.register([{ id: 's', version: 1, title: 'S', description: 'S' }, { id: 's', version: 2, title: 'S', description: 'S2', effectiveFrom }]);
        }, effectiveFrom).to.throw(/effectiveFrom.*ISO-8601/);
      }
    });
  });
});
