import { expect } from 'chai';
import { ConsentError } from '../../lib/errors';
import {
  assertNoProblems, dataProblems, noteProblems, normalizeSubject, parseDecisions, parseMeta, requireSubject,
} from '../../lib/core/input';

const nest = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i += 1) value = { n: value };
  return value;
};

describe('subject ids', () => {
  it('accepts strings of 1–256 characters exactly as given and safe integers as strings', () => {
    expect(normalizeSubject('a')).to.equal('a');
    expect(normalizeSubject(' A ')).to.equal(' A ');
    expect(normalizeSubject('x'.repeat(256))).to.equal('x'.repeat(256));
    expect(normalizeSubject(42)).to.equal('42');
    expect(normalizeSubject(-7)).to.equal('-7');
    expect(normalizeSubject('user\u{1F600}\uFFFD')).to.equal('user\u{1F600}\uFFFD');
  });

  it('refuses empty, too long, unsafe numbers and other types', () => {
    for (const bad of ['', 'x'.repeat(257), 'user\uD800', 'user\uDC00', '\uDE00\uD83D', 1.5, 2 ** 53, NaN, null, undefined, {}, ['a'], true]) {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a label for any value
      expect(normalizeSubject(bad), String(bad)).to.equal(null);
    }
    expect(() => requireSubject({ id: 1 })).to.throw(ConsentError).with.property('code', 'invalid_subject');
  });
});

describe('data', () => {
  it('accepts a plain JSON object up to 8 levels and 4096 bytes', () => {
    expect(dataProblems({ a: [1, 'b', true, null, { c: 1 }] })).to.deep.equal([]);
    expect(dataProblems(nest(8))).to.deep.equal([]);
    expect(dataProblems({ s: 'x'.repeat(4088) })).to.deep.equal([]);
    expect(dataProblems(null)).to.deep.equal([]);
  });

  it('refuses non-objects, too deep, too large and non-JSON values', () => {
    expect(dataProblems([1])[0]?.pointer).to.equal('/data');
    expect(dataProblems('text')[0]?.detail).to.match(/object/);
    expect(dataProblems(nest(9))).to.have.length(1);
    expect(dataProblems({ s: 'x'.repeat(4089) })[0]?.detail).to.match(/4096 bytes/);
    expect(dataProblems({ d: new Date(0) })[0]?.pointer).to.equal('/data/d');
    expect(dataProblems({ n: Infinity })[0]?.pointer).to.equal('/data/n');
    expect(dataProblems({ f: () => 1 })).to.have.length(1);
  });

  it('refuses __proto__, constructor and prototype keys at any depth', () => {
    const own = JSON.parse('{"a":{"__proto__":{"polluted":true}}}');
    expect(dataProblems(own)).to.deep.equal([{ pointer: '/data/a/__proto__', detail: 'the key "__proto__" is not allowed' }]);
    expect(dataProblems({ list: [{ constructor: 1 }] })[0]?.pointer).to.equal('/data/list/0/constructor');
    expect(dataProblems({ prototype: {} })[0]?.pointer).to.equal('/data/prototype');
    expect(dataProblems({ 'a/b~c': { constructor: 1 } })[0]?.pointer).to.equal('/data/a~1b~0c/constructor');
  });
});

describe('decisions and meta', () => {
  it('parses bare decisions and { decision, version }', () => {
    const { decisions, problems } = parseDecisions({ a: 'granted', b: { decision: 'denied', version: 3 } }, '/decisions');
    expect(problems).to.deep.equal([]);
    expect(decisions).to.deep.equal([
      { id: 'a', decision: 'granted', version: undefined },
      { id: 'b', decision: 'denied', version: 3 },
    ]);
  });

  it('reports every bad entry with a pointer', () => {
    const { problems } = parseDecisions({ a: 'yes', b: { decision: 'granted', version: 0 }, c: { decision: 'denied', extra: 1 } }, '/d');
    expect(problems.map((p) => p.pointer)).to.deep.equal(['/d/a', '/d/b/version', '/d/c/extra']);
    expect(parseDecisions({}, '/d').problems[0]?.detail).to.match(/1 to 100/);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`r${String(i)}`, 'granted']));
    expect(parseDecisions(many, '/d').problems).to.have.length(1);
    expect(parseDecisions(['granted'], '/d').problems).to.have.length(1);
  });

  it('validates meta fields and serialises data', () => {
    expect(parseMeta(undefined).meta).to.deep.equal({ source: 'app', actor: null, note: null, data: null, context: null });
    expect(parseMeta({ source: 'admin', actor: 'root', note: 'n', data: { a: 1 }, context: '/signup' }).meta).to.deep.equal({
      source: 'admin', actor: 'root', note: 'n', data: '{"a":1}', context: '/signup',
    });
    const { problems } = parseMeta({ source: 'web', actor: '', note: 'x'.repeat(501), data: [], extra: 1, context: 'x'.repeat(201) });
    expect(problems.map((p) => p.pointer).sort()).to.deep.equal(['/meta/actor', '/meta/context', '/meta/data', '/meta/extra', '/meta/note', '/meta/source']);
    expect(parseMeta({ context: '' }).problems.map((p) => p.pointer)).to.deep.equal(['/meta/context']);
    expect(parseMeta({ context: 'a\u0000b' }).problems.map((p) => p.pointer)).to.deep.equal(['/meta/context']);
    expect(noteProblems(5)).to.have.length(1);
  });

  it('turns problems into one invalid_argument listing them', () => {
    expect(() => { assertNoProblems([]); }).to.not.throw();
    try {
      assertNoProblems([{ pointer: '/a', detail: 'bad' }, { pointer: '/b', detail: 'worse' }]);
      expect.fail('should throw');
    } catch (error) {
      expect(error).to.be.instanceOf(ConsentError);
      expect(error).to.include({ code: 'invalid_argument', status: 400 });
      expect((error as ConsentError).extensions.errors).to.have.length(2);
    }
  });
});
