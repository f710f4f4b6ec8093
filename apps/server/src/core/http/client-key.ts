import ipaddr from 'ipaddr.js';

/**
 * The key a client's requests are counted under by rate limits: its IPv4 address, or the /64 its
 * IPv6 address lies in. An IPv6 subscriber is normally given a whole /64 (RFC 6177), so a limit per
 * address would let anyone get a fresh quota by picking another address of their own.
 * IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports) count as IPv4.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const network = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${network.join(':')}::/64`;
}
