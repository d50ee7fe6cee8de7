import { expect } from 'chai';
import { fullIp, truncateIp } from '../../lib/express/network';

describe('client address truncation', () => {
  it('keeps the /24 of an IPv4 address', () => {
    expect(truncateIp('203.0.113.77')).to.equal('203.0.113.0');
    expect(truncateIp('10.1.2.3')).to.equal('10.1.2.0');
  });

  it('treats an IPv4-mapped IPv6 address as IPv4', () => {
    expect(truncateIp('::ffff:198.51.100.9')).to.equal('198.51.100.0');
    expect(truncateIp('::FFFF:198.51.100.9')).to.equal('198.51.100.0');
    expect(fullIp('::ffff:198.51.100.9')).to.equal('198.51.100.9');
  });

  it('keeps the /48 of an IPv6 address, whatever its notation', () => {
    expect(truncateIp('2001:db8:abcd:12:1:2:3:4')).to.equal('2001:db8:abcd::');
    expect(truncateIp('2001:0db8:00ab:0012::1')).to.equal('2001:db8:ab::');
    expect(truncateIp('2001:db8::1')).to.equal('2001:db8:0::');
    expect(truncateIp('::1')).to.equal('0:0:0::');
    expect(truncateIp('fe80::1%eth0')).to.equal('fe80:0:0::');
    expect(truncateIp('64:ff9b:1::192.0.2.33')).to.equal('64:ff9b:1::');
  });

  it('returns null for anything that is not an address', () => {
    for (const value of [undefined, null, '', 'localhost', '999.1.1.1', '1.2.3', 'gggg::1']) {
      expect(truncateIp(value), String(value)).to.equal(null);
      expect(fullIp(value), String(value)).to.equal(null);
    }
  });

  it('keeps a full address as given', () => {
    expect(fullIp('2001:db8::1')).to.equal('2001:db8::1');
    expect(fullIp('203.0.113.77')).to.equal('203.0.113.77');
  });
});
