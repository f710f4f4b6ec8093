import type { ModulePolicy } from '../access-policy.js';

const signedIn = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const;
const anyCaller = [...signedIn, 'scopedKey'] as const;

/** The directory module's rows of the authorization matrix (see access-policy.ts). */
export const directoryPolicy: ModulePolicy = {
  /** Every signed-in actor has a profile (so /profiles/me answers), plus one unlinked profile for the admin to delete. */
  async setup(ctx) {
    const ids: Record<string, string> = {};
    for (const actor of signedIn) {
      const profile = await ctx.call(actor, 'POST', '/directory/profiles', actor === 'admin' ? { name: `Profile of ${actor}`, userId: ctx.users.admin.userId } : { name: `Profile of ${actor}`, city: 'Lyon' });
      ids[`directoryProfile_${actor}`] = profile.id;
    }
    ids.directoryUnlinkedProfile = (await ctx.call('admin', 'POST', '/directory/profiles', { name: 'Imported alumna', externalId: 'matrix-1' })).id;
    // ctx.call sends JSON; an import is a text/csv body.
    const upload = await ctx.t.app.inject({
      method: 'POST',
      url: '/api/v1/directory/import',
      headers: { authorization: `Bearer ${ctx.users.admin.accessToken}`, 'content-type': 'text/csv' },
      payload: 'externalId,name\nmatrix-2,Imported alumnus\n,No external id\n',
    });
    if (upload.statusCode !== 201) throw new Error(`directory import fixture: ${upload.statusCode} ${upload.body}`);
    ids.directoryImport = upload.json().id;
    // Two flagged pairs (as an import would flag them): one to dismiss, one to merge.
    for (const action of ['dismiss', 'merge']) {
      const pair: string[] = [];
      for (const n of [1, 2]) pair.push((await ctx.call('admin', 'POST', '/directory/profiles', { name: `Twin ${action} ${n}`, email: `twin-${action}@example.com` })).id);
      pair.sort();
      ids[`directoryDuplicate_${action}`] = `dup_matrix_${action}`;
      ids[`directoryDuplicateKeep_${action}`] = pair[0]!;
      await ctx.t.core.database.db
        .insertInto('directory_duplicate' as never)
        .values({ id: `dup_matrix_${action}`, profile_a: pair[0], profile_b: pair[1], reason: 'email', import_id: null, created_at: new Date().toISOString(), dismissed_at: null } as never)
        .execute();
    }
    return ids;
  },
  rules: {
    'GET /api/v1/directory/profiles': { allow: 'everyone' },
    // Everyone with profile:edit may create (their own: a second one is 409, which is not a refusal).
    'POST /api/v1/directory/profiles': { allow: anyCaller, body: () => ({ name: 'Matrix alumna' }) },
    'GET /api/v1/directory/profiles/me': { allow: anyCaller },
    'GET /api/v1/directory/profiles/{id}': { allow: 'everyone', params: (f) => ({ id: f.ids.directoryProfile_studentA! }) },
    // The person (also through their profile:edit key) and directory admins.
    'PATCH /api/v1/directory/profiles/{id}': { allow: ['studentA', 'scopedKey', 'admin'], params: (f) => ({ id: f.ids.directoryProfile_studentA! }), body: () => ({ city: 'Paris' }) },
    // Only the admin may delete an unlinked profile (the person's own delete is covered by the module's tests).
    'DELETE /api/v1/directory/profiles/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.directoryUnlinkedProfile! }) },
    'GET /api/v1/directory/search': { allow: 'everyone' },
    'GET /api/v1/directory/export': { allow: anyCaller },
    // Imports and duplicate review: directory admins (`directory:manage`) only.
    'POST /api/v1/directory/import': { allow: ['admin'] },
    'GET /api/v1/directory/imports/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.directoryImport! }) },
    'GET /api/v1/directory/imports/{id}/errors': { allow: ['admin'], params: (f) => ({ id: f.ids.directoryImport! }) },
    'GET /api/v1/directory/duplicates': { allow: ['admin'] },
    'POST /api/v1/directory/duplicates/{id}/dismiss': { allow: ['admin'], params: (f) => ({ id: f.ids.directoryDuplicate_dismiss! }) },
    'POST /api/v1/directory/duplicates/{id}/merge': {
      allow: ['admin'],
      params: (f) => ({ id: f.ids.directoryDuplicate_merge! }),
      body: (f) => ({ keep: f.ids.directoryDuplicateKeep_merge!, keepVersion: 1, otherVersion: 1 }),
    },
  },
};
