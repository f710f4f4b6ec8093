import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { generate } from 'otplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { GOOD_PASSWORD, bearer, identityApp, login, me, register, signUp, uniqueEmail, type IdentityTestApp } from '../../../test/support/identity.js';

const APP_REDIRECT = 'https://app.example/sso';

/** The people the local provider knows, by subject; a test adds whom it needs. */
const people = new Map<string, { email: string; email_verified: boolean; name: string }>();

/**
 * A real OpenID Connect provider (`oidc-provider`) on a loopback port. Its login and consent
 * screens are replaced by a handler that signs in whoever the test names in `nextSubject`.
 */
async function startProvider(callbackUrl: string) {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'lyceum', client_secret: 'lyceum-test-secret', redirect_uris: [callbackUrl], grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: async (_ctx, sub) => (people.has(sub) ? { accountId: sub, claims: async () => ({ sub, ...people.get(sub)! }) } : undefined),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['oidc-test-cookie-key'] },
  });
  const state = { nextSubject: '' };
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') return provider.interactionFinished(req, res, { login: { accountId: state.nextSubject } }, { mergeWithLastSubmission: false });
    const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  });
  return { issuer, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * A browser with a cookie jar: follows redirects across the provider and Lyceum (reached through
 * `inject`) until it lands on the app's page, and returns that URL.
 */
async function browse(t: IdentityTestApp, start: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(APP_REDIRECT)) return new URL(url);
    let status: number;
    let location: string | undefined;
    if (url.startsWith(t.config.publicUrl)) {
      const res = await t.app.inject({ method: 'GET', url: url.slice(t.config.publicUrl.length) });
      status = res.statusCode;
      location = res.headers.location as string | undefined;
      if (status >= 400) throw new Error(`Lyceum answered ${status}: ${res.body}`);
    } else {
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const header of res.headers.getSetCookie()) {
        const [pair] = header.split(';');
        const index = pair!.indexOf('=');
        cookies.set(pair!.slice(0, index), pair!.slice(index + 1));
      }
      status = res.status;
      location = res.headers.get('location') ?? undefined;
      if (status >= 400) throw new Error(`Provider answered ${status}: ${await res.text()}`);
    }
    if (!location) throw new Error(`No redirect from ${url} (${status})`);
    url = new URL(location, url).toString();
  }
  throw new Error('Too many redirects');
}

describeEachDialect('single sign-on with OpenID Connect', (dialect) => {
  let t: IdentityTestApp;
  let provider: Awaited<ReturnType<typeof startProvider>>;

  beforeAll(async () => {
    // The provider must know Lyceum's callback before Lyceum knows the provider's address: a fixed PUBLIC_URL settles it.
    const publicUrl = 'http://lyceum.test';
    provider = await startProvider(`${publicUrl}/api/v1/auth/oidc/school/callback`);
    t = await identityApp({
      dialect,
      env: {
        PUBLIC_URL: publicUrl,
        AUTH_OIDC_PROVIDERS: JSON.stringify([{ name: 'school', displayName: 'School account', issuer: provider.issuer, clientId: 'lyceum', clientSecret: 'lyceum-test-secret' }]),
        AUTH_OIDC_REDIRECT_URIS: `${APP_REDIRECT},com.example.app:/sso`,
      },
    });
  });
  afterAll(async () => {
    await t?.destroy();
    await provider?.close();
  });

  async function person(overrides: Partial<{ email: string; email_verified: boolean; name: string }> = {}) {
    const subject = `sub-${people.size + 1}-${dialect}`;
    people.set(subject, { email: uniqueEmail('sso'), email_verified: true, name: 'Ada Lovelace', ...overrides });
    provider.state.nextSubject = subject;
    return { subject, ...people.get(subject)! };
  }

  const start = (redirectUri = APP_REDIRECT) => t.app.inject({ method: 'GET', url: `/api/v1/auth/oidc/school/authorize?redirectUri=${encodeURIComponent(redirectUri)}` });

  async function signInWithProvider(): Promise<URL> {
    const res = await start();
    expect(res.statusCode, res.body).toBe(302);
    const target = new URL(res.headers.location as string);
    expect(target.origin).toBe(provider.issuer);
    expect(target.searchParams.get('code_challenge_method')).toBe('S256');
    expect(target.searchParams.get('state')).toBeTruthy();
    expect(target.searchParams.get('nonce')).toBeTruthy();
    return browse(t, target.toString());
  }

  const exchange = (code: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/oidc/exchange', payload: { code } });

  it('lists the configured providers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/providers' });
    expect(res.json()).toEqual({ items: [{ name: 'school', displayName: 'School account' }] });
  });

  it('creates a verified account on first sign-in and finds it again by subject, even after the email changes at the provider', async () => {
    const p = await person();
    const back = await signInWithProvider();
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^lyc_/);
    const res = await exchange(code);
    expect(res.statusCode, res.body).toBe(200);
    const { accessToken, user } = res.json();
    expect(user).toMatchObject({ email: p.email, displayName: 'Ada Lovelace', emailVerified: true });

    people.set(p.subject, { ...p, email: uniqueEmail('renamed') });
    const again = await exchange((await signInWithProvider()).searchParams.get('code')!);
    expect(again.json().user.id).toBe(user.id);
    expect((await me(t, accessToken)).statusCode).toBe(200);
  });

  it('links to an existing verified account with the same email, which keeps its password', async () => {
    const local = await signUp(t);
    await person({ email: local.email });
    const res = await exchange((await signInWithProvider()).searchParams.get('code')!);
    expect(res.json().user.id).toBe(local.userId);
    expect((await login(t, local.email)).statusCode).toBe(200);
  });

  it('takes an unverified account away from whoever registered it without proving the address (pre-hijacking)', async () => {
    const { email } = await register(t, { displayName: 'Squatter' });
    const squatter = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: GOOD_PASSWORD } });
    await person({ email });
    const res = await exchange((await signInWithProvider()).searchParams.get('code')!);
    expect(res.statusCode).toBe(200);
    expect(res.json().user.emailVerified).toBe(true);
    expect((await login(t, email)).statusCode).toBe(401);
    if (squatter.statusCode === 200) expect((await me(t, squatter.json().accessToken)).statusCode).toBe(401);
  });

  it('refuses to link by an email the provider does not vouch for, and creates nothing', async () => {
    const p = await person({ email_verified: false });
    const back = await signInWithProvider();
    expect(back.searchParams.get('error')).toBe('email_not_verified');
    expect(back.searchParams.get('code')).toBeNull();
    const found = await t.core.database.db.selectFrom('identity_user').select('id').where('email', '=', p.email).execute();
    expect(found).toEqual([]);
  });

  it('a login code works once, and not after a minute', async () => {
    await person();
    const code = (await signInWithProvider()).searchParams.get('code')!;
    expect((await exchange(code)).statusCode).toBe(200);
    const replay = await exchange(code);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('AUTH_SSO_CODE_INVALID');

    await person();
    const late = (await signInWithProvider()).searchParams.get('code')!;
    t.clock.advance(61_000);
    expect((await exchange(late)).statusCode).toBe(401);
  });

  it('refuses redirect targets outside the allowlist, unknown providers, and callbacks for no known attempt', async () => {
    const evil = await start('https://evil.example/steal');
    expect(evil.statusCode).toBe(422);
    expect(evil.json().code).toBe('AUTH_SSO_REDIRECT_NOT_ALLOWED');
    const unknown = await t.app.inject({ method: 'GET', url: `/api/v1/auth/oidc/nope/authorize?redirectUri=${encodeURIComponent(APP_REDIRECT)}` });
    expect(unknown.statusCode).toBe(404);
    const forged = await t.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/school/callback?state=forged-state-value&code=abc' });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().code).toBe('AUTH_SSO_CODE_INVALID');
  });

  it('a callback replayed with the same state is refused', async () => {
    await person();
    const res = await start();
    const target = new URL(res.headers.location as string);
    const state = target.searchParams.get('state')!;
    await browse(t, target.toString());
    const replay = await t.app.inject({ method: 'GET', url: `/api/v1/auth/oidc/school/callback?state=${encodeURIComponent(state)}&code=whatever` });
    expect(replay.statusCode).toBe(400);
  });

  it('an account with a second factor gets an MFA challenge instead of tokens', async () => {
    const local = await signUp(t);
    const setup = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(local.accessToken), payload: { password: local.password } });
    const code = await generate({ secret: setup.json().secret, epoch: Math.floor(t.clock.now().getTime() / 1000) });
    const confirm = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: bearer(local.accessToken), payload: { code } });
    expect(confirm.statusCode, confirm.body).toBe(200);
    await person({ email: local.email });
    const res = await exchange((await signInWithProvider()).searchParams.get('code')!);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ mfaRequired: true });
  });
});
