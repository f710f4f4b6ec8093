import { createHmac } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, me, signUp, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';

describeEachDialect('identity: access tokens', (dialect) => {
  let t: IdentityTestApp;
  let user: SignedIn;
  beforeAll(async () => {
    t = await identityApp({ dialect });
    user = await signUp(t);
  });
  afterAll(() => t.destroy());

  const issuer = () => t.config.auth.issuer;
  const audience = () => t.config.auth.audience;
  const seconds = () => Math.floor(t.clock.now().getTime() / 1000);

  /** Signs arbitrary claims with the server's own current key: only the claims are wrong. */
  async function signWithServerKey(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const { kid, privateKey } = t.identity.keys.current();
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header }).sign(privateKey);
  }

  const validClaims = () => ({ sub: user.userId, sid: user.sessionId, roles: ['student'], typ: 'access', iss: issuer(), aud: audience(), iat: seconds(), nbf: seconds(), exp: seconds() + 600 });

  it('carries sub, sid, roles, typ, aud, iss and a kid, signed with EdDSA, for 15 minutes', () => {
    const header = decodeProtectedHeader(user.accessToken);
    const claims = decodeJwt(user.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: t.identity.keys.current().kid });
    expect(claims).toMatchObject({ sub: user.userId, sid: user.sessionId, roles: ['student'], typ: 'access', iss: issuer(), aud: audience() });
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it('verifies against the public keys at /.well-known/jwks.json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    const jwks = res.json();
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    const { payload } = await jwtVerify(user.accessToken, createLocalJWKSet(jwks), { issuer: issuer(), audience: audience(), currentDate: t.clock.now() });
    expect(payload.sub).toBe(user.userId);
  });

  it('a token signed by the server key with valid claims is accepted (control for the forgeries below)', async () => {
    expect((await me(t, await signWithServerKey(validClaims()))).statusCode).toBe(200);
  });

  const forgeries: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: t.identity.keys.current().kid })).toString('base64url')}.${Buffer.from(JSON.stringify(validClaims())).toString('base64url')}.`],
    [
      'HS256 signed with the public key as the secret (algorithm confusion)',
      async () => {
        const jwk = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys[0];
        const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })).toString('base64url');
        const body = Buffer.from(JSON.stringify(validClaims())).toString('base64url');
        const sig = createHmac('sha256', JSON.stringify(jwk)).update(`${head}.${body}`).digest('base64url');
        return `${head}.${body}.${sig}`;
      },
    ],
    [
      'the right kid but another key',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA');
        return new SignJWT(validClaims()).setProtectedHeader({ alg: 'EdDSA', kid: t.identity.keys.current().kid, typ: 'at+jwt' }).sign(privateKey);
      },
    ],
    [
      'a foreign kid',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA');
        return new SignJWT(validClaims()).setProtectedHeader({ alg: 'EdDSA', kid: 'attacker-key', typ: 'at+jwt' }).sign(privateKey);
      },
    ],
    [
      'an embedded jwk header pointing at the attacker’s own key',
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
        return new SignJWT(validClaims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', jwk: await exportJWK(publicKey as CryptoKey) }).sign(privateKey);
      },
    ],
    ['expired', () => signWithServerKey({ ...validClaims(), iat: seconds() - 2000, nbf: seconds() - 2000, exp: seconds() - 1000 })],
    ['not yet valid', () => signWithServerKey({ ...validClaims(), nbf: seconds() + 600, exp: seconds() + 1200 })],
    ['typ claim says refresh', () => signWithServerKey({ ...validClaims(), typ: 'refresh' })],
    ['header typ is plain JWT', () => signWithServerKey(validClaims(), { typ: 'JWT' })],
    ['another audience', () => signWithServerKey({ ...validClaims(), aud: 'some-other-service' })],
    ['another issuer', () => signWithServerKey({ ...validClaims(), iss: 'https://evil.example' })],
    ['no sid', async () => signWithServerKey({ ...validClaims(), sid: undefined })],
    ['a session id that does not exist', () => signWithServerKey({ ...validClaims(), sid: 'ses_doesnotexist' })],
    ['another user’s sub on this session', () => signWithServerKey({ ...validClaims(), sub: 'usr_someoneelse' })],
    ['a tampered payload (roles: admin) under the original signature', async () => {
      const [head, , sig] = user.accessToken.split('.');
      const claims = { ...decodeJwt(user.accessToken), roles: ['admin'] };
      return `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    }],
    ['the refresh token used as an access token', async () => user.refreshToken],
    ['garbage', async () => 'not.a.jwt'],
  ];

  for (const [name, forge] of forgeries) {
    it(`a forged token is refused with 401: ${name}`, async () => {
      const res = await me(t, await forge());
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.json().code).toMatch(/^AUTH_/);
    });
  }

  it('an expired token says AUTH_TOKEN_EXPIRED so that the client knows to refresh', async () => {
    const other = await signUp(t);
    t.clock.advance(901_000);
    try {
      const res = await me(t, other.accessToken);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('AUTH_TOKEN_EXPIRED');
    } finally {
      t.clock.advance(-901_000);
    }
  });

  it('the token of a deleted user is refused', async () => {
    const admin = await t.identity.admin.createAdmin({ email: `root-${Date.now()}@example.com`, password: 'a long admin passphrase', displayName: 'Root' });
    const victim = await signUp(t);
    expect((await me(t, victim.accessToken)).statusCode).toBe(200);
    await t.identity.admin.deleteUser(admin.id, victim.userId, { ip: '127.0.0.1' });
    expect((await me(t, victim.accessToken)).statusCode).toBe(401);
  });

  it('a malformed Authorization header is 401, not 500', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer a b c' } });
    expect(res.statusCode).toBe(401);
  });

  it('rotating the signing key logs nobody out; the old key stays in the JWKS until its tokens expire', async () => {
    const before = await signUp(t);
    const oldKid = t.identity.keys.current().kid;
    const newKid = await t.identity.keys.rotate();
    expect(newKid).not.toBe(oldKid);
    expect((await me(t, before.accessToken)).statusCode).toBe(200);
    const after = await signUp(t);
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
    const kids = () => t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }).then((r) => r.json().keys.map((k: { kid: string }) => k.kid));
    expect(await kids()).toEqual([newKid, oldKid]);
    t.clock.advance(901_000);
    expect(await kids()).toEqual([newKid]);
    t.clock.advance(-901_000);
  });

  it('uses the bearer scheme case-sensitively and refuses other schemes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Basic ${user.accessToken}` } });
    expect(res.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(user.accessToken) })).statusCode).toBe(200);
  });
});
