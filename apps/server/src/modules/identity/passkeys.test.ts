import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, me, signUp, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';

const b64url = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');

/**
 * A software authenticator: an ES256 key pair per credential, "none" attestation, discoverable
 * credentials (it returns the user handle), and a signature counter. Enough to drive the real
 * @simplewebauthn/server ceremonies end to end.
 */
class SoftAuthenticator {
  private credentials = new Map<string, { privateKey: KeyObject; userHandle: string; counter: number }>();
  constructor(
    private readonly rpId: string,
    private readonly origin: string,
  ) {}

  private authData(flags: number, counter: number, attested?: Buffer): Buffer {
    const head = Buffer.alloc(37);
    createHash('sha256').update(this.rpId).digest().copy(head, 0);
    head[32] = flags;
    head.writeUInt32BE(counter, 33);
    return attested ? Buffer.concat([head, attested]) : head;
  }

  private clientData(type: string, challenge: string, origin = this.origin): string {
    return b64url(Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })));
  }

  create(options: { challenge: string; user: { id: string } }, override: { origin?: string } = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    const id = randomBytes(16);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, id, Buffer.from(cose)]);
    const authData = this.authData(0x01 | 0x04 | 0x40, 0, attested);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never);
    this.credentials.set(b64url(id), { privateKey, userHandle: options.user.id, counter: 0 });
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: this.clientData('webauthn.create', options.challenge, override.origin), attestationObject: b64url(attestationObject), transports: ['internal'] },
    };
  }

  get(options: { challenge: string }, credentialId?: string, override: { counter?: number } = {}) {
    const [id, credential] = credentialId ? [credentialId, this.credentials.get(credentialId)!] : [...this.credentials.entries()][0]!;
    credential.counter = override.counter ?? credential.counter + 1;
    const authData = this.authData(0x01 | 0x04, credential.counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge);
    const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(Buffer.from(clientDataJSON, 'base64url')).digest()]), credential.privateKey);
    return {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON, authenticatorData: b64url(authData), signature: b64url(signature), userHandle: credential.userHandle },
    };
  }
}

describeEachDialect('identity: passkeys', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect });
  });
  afterAll(() => t.destroy());

  const origin = () => new URL(t.config.publicUrl).origin;
  const rpId = () => new URL(t.config.publicUrl).hostname;
  const post = (url: string, payload?: object, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: `/api/v1${url}`, ...(payload ? { payload } : {}), headers });

  async function registerPasskey(user: SignedIn, authenticator: SoftAuthenticator, name = 'Laptop') {
    const options = (await post('/auth/passkeys/register/options', undefined, bearer(user.accessToken))).json();
    const res = await post('/auth/passkeys/register', { response: authenticator.create(options), name }, bearer(user.accessToken));
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  async function passkeyLogin(authenticator: SoftAuthenticator, credentialId?: string, override: { counter?: number } = {}) {
    const options = (await post('/auth/passkeys/login/options')).json();
    return post('/auth/passkeys/login', { response: authenticator.get(options, credentialId, override) });
  }

  it('registers a passkey and signs in with it, without a password', async () => {
    const user = await signUp(t);
    const authenticator = new SoftAuthenticator(rpId(), origin());
    const passkey = await registerPasskey(user, authenticator);
    expect(passkey).toMatchObject({ name: 'Laptop', backedUp: false });
    const res = await passkeyLogin(authenticator);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user.id).toBe(user.userId);
    expect((await me(t, res.json().accessToken)).statusCode).toBe(200);
  });

  it('several passkeys per account are listed and each can be removed', async () => {
    const user = await signUp(t);
    const phone = new SoftAuthenticator(rpId(), origin());
    const laptop = new SoftAuthenticator(rpId(), origin());
    const first = await registerPasskey(user, phone, 'Phone');
    await registerPasskey(user, laptop, 'Laptop');
    const list = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(user.accessToken) })).json();
    expect(list.items.map((p: { name: string }) => p.name)).toEqual(['Phone', 'Laptop']);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${first.id}`, headers: bearer(user.accessToken) });
    expect(del.statusCode).toBe(204);
    expect((await passkeyLogin(phone)).statusCode).toBe(401);
    expect((await passkeyLogin(laptop)).statusCode).toBe(200);
  });

  it('a registration from another origin is refused', async () => {
    const user = await signUp(t);
    const authenticator = new SoftAuthenticator(rpId(), origin());
    const options = (await post('/auth/passkeys/register/options', undefined, bearer(user.accessToken))).json();
    const res = await post('/auth/passkeys/register', { response: authenticator.create(options, { origin: 'https://evil.example' }) }, bearer(user.accessToken));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('AUTH_PASSKEY_VERIFICATION_FAILED');
  });

  it('a sign-in challenge works once', async () => {
    const user = await signUp(t);
    const authenticator = new SoftAuthenticator(rpId(), origin());
    await registerPasskey(user, authenticator);
    const options = (await post('/auth/passkeys/login/options')).json();
    const response = authenticator.get(options);
    expect((await post('/auth/passkeys/login', { response })).statusCode).toBe(200);
    expect((await post('/auth/passkeys/login', { response })).statusCode).toBe(401);
  });

  it('a cloned authenticator replaying an old signature counter is refused', async () => {
    const user = await signUp(t);
    const authenticator = new SoftAuthenticator(rpId(), origin());
    await registerPasskey(user, authenticator);
    expect((await passkeyLogin(authenticator)).statusCode).toBe(200);
    expect((await passkeyLogin(authenticator, undefined, { counter: 5 })).statusCode).toBe(200);
    expect((await passkeyLogin(authenticator, undefined, { counter: 3 })).statusCode).toBe(401);
  });

  it('user A can neither list nor remove user B’s passkeys', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const passkey = await registerPasskey(b, new SoftAuthenticator(rpId(), origin()));
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/passkeys', headers: bearer(a.accessToken) })).json().items).toEqual([]);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/passkeys/${passkey.id}`, headers: bearer(a.accessToken) })).statusCode).toBe(404);
  });
});
