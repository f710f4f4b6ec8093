import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { createAccessTokens } from './access-tokens.js';
import type { SigningKeyRing } from './signing-keys.js';

/** Access tokens over one in-memory key, counting how often a signature check looks its key up. */
async function tokensWithOneKey() {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const lookups = { count: 0 };
  const keys = {
    ensure: async () => {},
    current: () => ({ kid: 'k1', privateKey }),
    verificationKey: async (kid: string) => {
      lookups.count++;
      return kid === 'k1' ? publicKey : undefined;
    },
  } as unknown as SigningKeyRing;
  return { tokens: createAccessTokens({ keys, clock: systemClock, issuer: 'https://lyceum.test', audience: 'lyceum', ttlSeconds: 900 }), lookups };
}

describe('access token verification', () => {
  it('checks a new token once, however many requests bring it at the same time, and then remembers it', async () => {
    const { tokens, lookups } = await tokensWithOneKey();
    const { token } = await tokens.issue({ sub: 'usr_1', sid: 'ses_1', roles: ['student'] });
    const claims = await Promise.all(Array.from({ length: 20 }, () => tokens.verify(token)));
    expect(lookups.count).toBe(1);
    expect(claims.every((c) => c.sub === 'usr_1' && c.sid === 'ses_1')).toBe(true);
    await tokens.verify(token);
    expect(lookups.count).toBe(1);
  });

  it('a forged token fails for every request that shared its check, and is checked again next time', async () => {
    const { tokens, lookups } = await tokensWithOneKey();
    const { token } = await tokens.issue({ sub: 'usr_1', sid: 'ses_1', roles: ['student'] });
    const forged = `${token.slice(0, -6)}AAAAAA`;
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => tokens.verify(forged)));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'accepted'))).toEqual(Array(5).fill('AUTH_INVALID_TOKEN'));
    expect(lookups.count).toBe(1);
    await expect(tokens.verify(forged)).rejects.toMatchObject({ code: 'AUTH_INVALID_TOKEN' });
    expect(lookups.count).toBe(2);
  });
});
