import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, login, signUp, signUpAdmin, type IdentityTestApp, type SignedIn } from '../../../test/support/identity.js';

/**
 * Ending a session over HTTP ends its realtime connections too: a socket opened with a real access
 * token is told why and disconnected, on logout, on logout-all, and when an admin disables the account.
 */
describeEachDialect('identity: ended sessions disconnect their sockets', (dialect) => {
  let t: IdentityTestApp;
  let base: string;
  let admin: SignedIn;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await identityApp({ dialect, background: true });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    admin = await signUpAdmin(t);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t.destroy();
  });

  /** A connected socket of `user`, with promises for how the server ends it. */
  async function openSocket(user: SignedIn) {
    const socket = connect(base, { path: '/socket.io', transports: ['websocket'], auth: { token: user.accessToken }, reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('realtime:ready', () => resolve());
      socket.once('connect_error', reject);
    });
    return {
      socket,
      ended: new Promise<unknown>((resolve) => socket.once('session:ended', resolve)),
      disconnected: new Promise<string>((resolve) => socket.once('disconnect', resolve)),
    };
  }

  const call = (method: 'POST' | 'PATCH', url: string, token: string, payload: object = {}) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), payload });

  it('logout disconnects the socket of that session with the reason, and leaves the user’s other session connected', async () => {
    const user = await signUp(t);
    const phone = (await login(t, user.email, user.password)).json();
    const mine = await openSocket(user);
    const bystander = await openSocket({ ...user, accessToken: phone.accessToken });

    expect((await call('POST', '/auth/logout', user.accessToken)).statusCode).toBe(204);
    expect(await mine.ended).toEqual({ code: 'AUTH_SESSION_REVOKED', reason: 'logout' });
    expect(await mine.disconnected).toBe('io server disconnect');
    // The phone's session is still live: its socket stays, and it still receives its user's events.
    expect(bystander.socket.connected).toBe(true);
    const pinged = new Promise<unknown>((resolve) => bystander.socket.onAny((name: string) => name === 'identity:user.updated' && resolve(name)));
    expect((await call('PATCH', '/me', phone.accessToken, { displayName: 'Still here' })).statusCode).toBe(200);
    expect(await pinged).toBe('identity:user.updated');
  });

  it('logout-all disconnects every socket of the user', async () => {
    const user = await signUp(t);
    const first = await openSocket(user);
    const second = await openSocket(user);
    expect((await call('POST', '/auth/logout-all', user.accessToken)).statusCode).toBe(200);
    expect(await Promise.all([first.disconnected, second.disconnected])).toEqual(['io server disconnect', 'io server disconnect']);
  });

  it('an admin disabling the account disconnects its sockets', async () => {
    const user = await signUp(t);
    const socket = await openSocket(user);
    const res = await call('PATCH', `/admin/users/${user.userId}`, admin.accessToken, { status: 'disabled' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await socket.ended).toMatchObject({ code: expect.any(String) });
    expect(await socket.disconnected).toBe('io server disconnect');
  });
});
