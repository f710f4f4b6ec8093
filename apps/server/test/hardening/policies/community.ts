import type { ModulePolicy, Rule } from '../access-policy.js';
import type { CommunityModule } from '../../../src/modules/community/index.js';

const signedIn = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const;
const anyCaller = [...signedIn, 'scopedKey'] as const;
/** Who sees studentA's followers-only post (nobody follows studentA): the author and the admin. */
const seesPrivate = ['studentA', 'admin'] as const;
/** Reading it: also studentA's API key (reads need no permission; writes need `community:post`, which the key lacks). */
const readsPrivate = [...seesPrivate, 'scopedKey'] as const;

/** A post and comment by an account that is none of the actors, so that only a moderator may delete them. */
const ghost = { userId: 'usr_matrixghost', roles: ['student'], permissions: new Set(['community:post']) };

const reactionRows = (target: 'posts' | 'comments', id: string): Record<string, Rule> => ({
  [`GET /api/v1/${target}/{id}/reactions`]: { allow: readsPrivate, params: (f) => ({ id: f.ids[id]! }) },
  [`POST /api/v1/${target}/{id}/reactions`]: { allow: seesPrivate, params: (f) => ({ id: f.ids[id]! }), body: () => ({ kind: 'like' }) },
  [`DELETE /api/v1/${target}/{id}/reactions/{kind}`]: { allow: seesPrivate, params: (f) => ({ id: f.ids[id]!, kind: 'like' }) },
});

/** The community module's rows of the authorization matrix (see access-policy.ts). */
export const communityPolicy: ModulePolicy = {
  async setup({ call, t, ids }) {
    const community = t.modules.find((m) => m.name === 'community') as CommunityModule;
    const publicPost = await call('studentA', 'POST', '/posts', { body: 'A public post' });
    const privatePost = await call('studentA', 'POST', '/posts', { body: 'For my followers', visibility: 'followers' });
    const publicComment = await call('studentA', 'POST', `/posts/${publicPost.id}/comments`, { body: 'My comment' });
    const privateComment = await call('studentA', 'POST', `/posts/${privatePost.id}/comments`, { body: 'Private comment' });
    const ghostPost = await community.service.createPost(ghost, { body: 'Ghost post' });
    const ghostComment = await community.service.createComment(ghost, ghostPost.id, { body: 'Ghost comment' });
    const doomedPost = await community.service.createPost(ghost, { body: 'To be removed by a moderator' });
    // Reports: on studentB's public post and comment (moderated by the admin), and on studentA's course post (teacherOwner's queue).
    const reportedPost = await call('studentB', 'POST', '/posts', { body: 'Reported post' });
    const reportedComment = await call('studentB', 'POST', `/posts/${reportedPost.id}/comments`, { body: 'Reported comment' });
    // In learning's fixture course (teacherOwner's, studentA enrolled).
    const coursePost = await call('studentA', 'POST', '/posts', { body: 'A course post', courseId: ids.course });
    const courseReport = await call('studentA', 'POST', `/posts/${coursePost.id}/reports`, { reason: 'other' });
    return {
      coursePost: coursePost.id,
      publicPost: publicPost.id,
      privatePost: privatePost.id,
      publicComment: publicComment.id,
      privateComment: privateComment.id,
      ghostComment: ghostComment.id,
      doomedPost: doomedPost.id,
      reportedPost: reportedPost.id,
      reportedComment: reportedComment.id,
      courseReport: courseReport.id,
    };
  },
  rules: {
    'POST /api/v1/posts': { allow: signedIn, body: () => ({ body: 'Matrix post' }) },
    'GET /api/v1/posts/{id}': { allow: readsPrivate, params: (f) => ({ id: f.ids.privatePost! }) },
    'PATCH /api/v1/posts/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.publicPost! }), body: () => ({ body: 'Edited' }) },
    'DELETE /api/v1/posts/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.doomedPost! }) },
    'GET /api/v1/posts/{id}/comments': { allow: readsPrivate, params: (f) => ({ id: f.ids.privatePost! }) },
    'POST /api/v1/posts/{id}/comments': { allow: seesPrivate, params: (f) => ({ id: f.ids.privatePost! }), body: () => ({ body: 'Matrix comment' }) },
    'GET /api/v1/comments/{id}': { allow: readsPrivate, params: (f) => ({ id: f.ids.privateComment! }) },
    'PATCH /api/v1/comments/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.publicComment! }), body: () => ({ body: 'Edited comment' }) },
    'DELETE /api/v1/comments/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.ghostComment! }) },
    ...reactionRows('posts', 'privatePost'),
    ...reactionRows('comments', 'privateComment'),
    'PUT /api/v1/posts/{id}/pin': { allow: ['teacherOwner', 'admin'], params: (f) => ({ id: f.ids.coursePost! }) },
    'DELETE /api/v1/posts/{id}/pin': { allow: ['teacherOwner', 'admin'], params: (f) => ({ id: f.ids.coursePost! }) },
    'GET /api/v1/feed': { allow: anyCaller },
    'GET /api/v1/users/{id}/posts': { allow: anyCaller, params: (f) => ({ id: f.users.studentA.userId }) },
    'GET /api/v1/courses/{id}/feed': { allow: ['studentA', 'teacherOwner', 'admin', 'scopedKey'], params: (f) => ({ id: f.ids.course! }) },
    // Reporting what one can see: everyone but the key (no community:post) for a public post.
    'POST /api/v1/posts/{id}/reports': { allow: signedIn, params: (f) => ({ id: f.ids.reportedPost! }), body: () => ({ reason: 'spam' }) },
    'POST /api/v1/comments/{id}/reports': { allow: signedIn, params: (f) => ({ id: f.ids.reportedComment! }), body: () => ({ reason: 'spam' }) },
    // Moderating studentB's public post and comment: only the admin (no course staff there).
    'PUT /api/v1/posts/{id}/moderation': { allow: ['admin'], params: (f) => ({ id: f.ids.reportedPost! }), body: () => ({ status: 'visible' }) },
    'PUT /api/v1/comments/{id}/moderation': { allow: ['admin'], params: (f) => ({ id: f.ids.reportedComment! }), body: () => ({ status: 'visible' }) },
    // The queue answers everyone (filtered to what they moderate); a report on a course post, its staff and the admin.
    'GET /api/v1/moderation/reports': { allow: anyCaller },
    'PATCH /api/v1/moderation/reports/{id}': { allow: ['teacherOwner', 'admin'], params: (f) => ({ id: f.ids.courseReport! }), body: () => ({ status: 'dismissed' }) },
    'PUT /api/v1/users/{id}/block': { allow: signedIn, params: (f) => ({ id: f.victim.userId }) },
    'DELETE /api/v1/users/{id}/block': { allow: signedIn, params: (f) => ({ id: f.victim.userId }) },
    'GET /api/v1/blocks': { allow: anyCaller },
    'GET /api/v1/users/{id}/follow': { allow: anyCaller, params: (f) => ({ id: f.victim.userId }) },
    'PUT /api/v1/users/{id}/follow': { allow: signedIn, params: (f) => ({ id: f.victim.userId }) },
    'DELETE /api/v1/users/{id}/follow': { allow: signedIn, params: (f) => ({ id: f.victim.userId }) },
    'GET /api/v1/users/{id}/followers': { allow: anyCaller, params: (f) => ({ id: f.victim.userId }) },
    'GET /api/v1/users/{id}/following': { allow: anyCaller, params: (f) => ({ id: f.victim.userId }) },
  },
};
