import { expect } from 'chai';
import { canonicalJson } from '../../lib/audit/canonical-json';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units at every level, without white space', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 0, y: 1 }], c: null } })).to.equal('{"a":{"c":null,"d":[3,{"y":1,"z":0}]},"b":1}');
    // RFC 8785 §3.2.3: "\r" < "1" < "\u0080" < "ö" < "€" < "😀" (a surrogate pair) < "\ufb33".
    const keys = { '\ufb33': 0, '😀': 1, '€': 2, 'ö': 3, '\u0080': 4, '1': 5, '\r': 6 };
    expect(canonicalJson(keys)).to.equal('{"\\r":6,"1":5,"\u0080":4,"ö":3,"€":2,"😀":1,"\ufb33":0}');
  });

  it('prints numbers as ECMAScript does', () => {
    expect(canonicalJson([0, -0, 1e21, 1e-7, 123.456, -1.5e-300, 2 ** 53, 0.1 + 0.2])).to.equal(
      '[0,0,1e+21,1e-7,123.456,-1.5e-300,9007199254740992,0.30000000000000004]',
    );
    expect(canonicalJson(Number('333333333.33333329'))).to.equal('333333333.3333333');
    expect(canonicalJson(1e20)).to.equal('100000000000000000000');
  });

  it('escapes strings minimally and keeps other unicode literal', () => {
    expect(canonicalJson('\u20ac$\u000f\nA\'B"\\\\"/')).to.equal('"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
    expect(canonicalJson('\u00e9\u2028')).to.equal('"é\u2028"');
  });

  it('drops undefined members and refuses what JSON cannot hold', () => {
    expect(canonicalJson({ a: undefined, b: true, c: false })).to.equal('{"b":true,"c":false}');
    expect(() => canonicalJson(NaN)).to.throw(TypeError);
    expect(() => canonicalJson(Infinity)).to.throw(TypeError);
    expect(() => canonicalJson(() => 1)).to.throw(TypeError);
    expect(() => canonicalJson(10n)).to.throw(TypeError);
    expect(() => canonicalJson(undefined)).to.throw(TypeError, /cannot serialise/);
    expect(() => canonicalJson(Symbol('s'))).to.throw(TypeError, /cannot serialise/);
  });
});
