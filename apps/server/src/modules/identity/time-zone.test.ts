import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTransaction } from '../../core/db/transaction.js';
import { describeEachDialect } from '../../../test/support/databases.js';
import { bearer, identityApp, me, signUp, type IdentityTestApp } from '../../../test/support/identity.js';
import { IdentityEvents } from './identity.events.js';

describeEachDialect('identity: a user’s time zone', (dialect) => {
  let t: IdentityTestApp;
  beforeAll(async () => {
    t = await identityApp({ dialect });
  });
  afterAll(() => t.destroy());

  const patchMe = (accessToken: string, payload: Record<string, unknown>) => t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: bearer(accessToken), payload });

  it('a new account has no time zone (UTC)', async () => {
    const a = await signUp(t);
    expect((await me(t, a.accessToken)).json().timeZone).toBeNull();
    expect((await t.identity.users.lookup([a.userId])).get(a.userId)?.timeZone).toBeNull();
  });

  it('PATCH /me stores the zone with its case corrected and tells other modules with identity.user.updated', async () => {
    const a = await signUp(t);
    const before = await t.core.events.head();
    const res = await patchMe(a.accessToken, { timeZone: 'america/los_angeles' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ timeZone: 'America/Los_Angeles' });
    expect((await me(t, a.accessToken)).json().timeZone).toBe('America/Los_Angeles');
    expect((await t.identity.users.lookup([a.userId])).get(a.userId)).toMatchObject({ id: a.userId, timeZone: 'America/Los_Angeles' });
    const updated = (await t.core.events.readSince(before, { scopes: [`user:${a.userId}`], limit: 50 })).filter((e) => e.type === IdentityEvents.userUpdated);
    expect(updated.map((e) => e.payload)).toEqual([{ userId: a.userId, version: res.json().version, fields: ['timeZone'] }]);
  });

  it('an unknown zone is refused with 422 IDENTITY_TIME_ZONE_INVALID and changes nothing', async () => {
    const a = await signUp(t);
    await patchMe(a.accessToken, { timeZone: 'Europe/Paris' });
    const version = (await me(t, a.accessToken)).json().version;
    const res = await patchMe(a.accessToken, { timeZone: 'Mars/Base' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'IDENTITY_TIME_ZONE_INVALID', errors: [{ path: '/body/timeZone' }] });
    expect((await me(t, a.accessToken)).json()).toMatchObject({ timeZone: 'Europe/Paris', version });
    expect((await patchMe(a.accessToken, { timeZone: '' })).statusCode).toBe(422);
    expect((await patchMe(a.accessToken, { timeZone: 'Europe/Paris; drop table' })).statusCode).toBe(422);
  });

  it('null unsets the zone; a patch of the display name alone keeps it', async () => {
    const a = await signUp(t);
    await patchMe(a.accessToken, { timeZone: 'Asia/Kolkata' });
    expect((await patchMe(a.accessToken, { displayName: 'Renamed' })).json()).toMatchObject({ displayName: 'Renamed', timeZone: 'Asia/Kolkata' });
    expect((await patchMe(a.accessToken, { timeZone: null })).json().timeZone).toBeNull();
  });

  it('the directory reads a zone inside the caller’s transaction (no deadlock on SQLite’s one connection)', async () => {
    const a = await signUp(t);
    await patchMe(a.accessToken, { timeZone: 'Pacific/Auckland' });
    const zone = await withTransaction(t.core.database.db, async (tx) => (await t.identity.users.lookup([a.userId], tx)).get(a.userId)?.timeZone);
    expect(zone).toBe('Pacific/Auckland');
  });
});
