import { describe, expect, it } from 'vitest';
import { clientKey } from './client-key.js';

describe('clientKey', () => {
  it('keeps an IPv4 address as it is, also when a dual-stack socket reports it IPv4-mapped', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('counts every address of one IPv6 /64 as one client, and other /64s apart', () => {
    const key = clientKey('2001:db8:0:1::1');
    expect(clientKey('2001:db8:0:1:ffff:ffff:ffff:ffff')).toBe(key);
    expect(clientKey('2001:0db8:0000:0001:0:0:0:2')).toBe(key);
    expect(key).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:db8:0:2::1')).not.toBe(key);
  });

  it('passes through what is not an address, unchanged', () => {
    expect(clientKey('not:an-address')).toBe('not:an-address');
  });
});
