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
  },
};
