import { expect } from 'chai';
import { isoTime, isoTimeOrNull } from '../../lib/iso-time';

const DAY = 86_400_000;

describe('isoTime', () => {
  // Mismatches are collected and compared once: an assertion per time would dominate the run.
  let wrong: string[] = [];
  const same = (ms: number) => {
    const expected = new Date(ms).toISOString();
    if (isoTime(ms) !== expected) wrong.push(`${String(ms)}: ${isoTime(ms)} instead of ${expected}`);
  };
  beforeEach(() => {
    wrong = [];
  });
  afterEach(() => {
    expect(wrong.slice(0, 5)).to.deep.equal([]);
  });

  it('writes every day from 1800 to 2400 as Date#toISOString does, at its first and last millisecond', () => {
    for (let day = Math.floor(Date.UTC(1800, 0, 1) / DAY); day < Date.UTC(2400, 0, 1) / DAY; day += 1) {
      same(day * DAY);
      same(day * DAY + DAY - 1);
    }
  });

  it('writes random times of years 1 to 9999, and their edges, as Date#toISOString does', () => {
    let seed = 12_345;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const first = new Date('0001-01-01T00:00:00.000Z').getTime();
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    for (let i = 0; i < 100_000; i += 1) same(Math.floor(first + next() * (last - first)));
    for (const ms of [first, last, 0, -1, 1, Date.UTC(2000, 1, 29, 12), Date.UTC(1900, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 2, 1)]) same(ms);
  });

  it('leaves six-digit years and fractions to Date, and throws for an invalid time as Date does', () => {
    for (const ms of [Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1, -62_135_596_800_001, 8.64e15, 1.5, -0.5]) same(ms);
    expect(() => isoTime(Number.NaN)).to.throw(RangeError);
    expect(() => isoTime(8.64e15 + 1)).to.throw(RangeError);
  });

  it('gives null for null', () => {
    expect(isoTimeOrNull(null)).to.equal(null);
    expect(isoTimeOrNull(0)).to.equal('1970-01-01T00:00:00.000Z');
  });
});
