import { signUp } from '../../support/identity.js';
import type { ModulePolicy } from '../access-policy.js';

const signedIn = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const;
/** studentA owns the group, studentB is a plain member; nobody else belongs to it (admins included). */
const members = ['studentA', 'studentB'] as const;
const owner = ['studentA'] as const;

/**
 * The chat module's rows of the authorization matrix (see access-policy.ts). Every chat route needs
 * `community:post` (the scoped key lacks it); a conversation is visible to its members only (404
 * to others, administrators included); managing a group takes its owner (or admins).
 */
export const chatPolicy: ModulePolicy = {
  async setup({ t, call, users }) {
    // People who are not actors of the matrix: the targets of "add" and "remove member".
    const [toAdd, toRemove] = [await signUp(t, { displayName: 'Chat newcomer' }), await signUp(t, { displayName: 'Chat leaver' })];
    const group = await call('studentA', 'POST', '/conversations', { kind: 'group', title: 'Matrix group', memberIds: [users.studentB.userId, toRemove.userId] });
    const leave = await call('studentA', 'POST', '/conversations', { kind: 'group', title: 'Matrix leave', memberIds: [users.studentB.userId] });
    const message = await call('studentA', 'POST', `/conversations/${group.id}/messages`, { body: 'Matrix message', clientMessageId: 'matrix-1' });
    const doomed = await call('studentA', 'POST', `/conversations/${group.id}/messages`, { body: 'Matrix doomed', clientMessageId: 'matrix-2' });
    await call('studentA', 'POST', `/conversations/${group.id}/messages/${message.id}/reactions`, { emoji: '👍' });
    await call('studentA', 'POST', '/conversations/blocks', { userId: toRemove.userId });
    return { chatGroup: group.id, chatLeave: leave.id, chatMessage: message.id, chatDoomed: doomed.id, chatToAdd: toAdd.userId, chatToRemove: toRemove.userId };
  },
  rules: {
    'GET /api/v1/conversations': { allow: signedIn },
    'POST /api/v1/conversations': { allow: signedIn, body: () => ({ kind: 'group', title: 'Matrix-made group' }) },
    'GET /api/v1/conversations/{id}': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }) },
    'PATCH /api/v1/conversations/{id}': { allow: owner, params: (f) => ({ id: f.ids.chatGroup! }), body: () => ({ title: 'Renamed group' }) },
    'DELETE /api/v1/conversations/{id}': { allow: members, params: (f) => ({ id: f.ids.chatLeave! }) },
    'GET /api/v1/conversations/{id}/members': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }) },
    'POST /api/v1/conversations/{id}/members': { allow: owner, params: (f) => ({ id: f.ids.chatGroup! }), body: (f) => ({ userId: f.ids.chatToAdd! }) },
    'PATCH /api/v1/conversations/{id}/members/{userId}': { allow: owner, params: (f) => ({ id: f.ids.chatGroup!, userId: f.users.studentB.userId }), body: () => ({ role: 'member' }) },
    'DELETE /api/v1/conversations/{id}/members/{userId}': { allow: owner, params: (f) => ({ id: f.ids.chatGroup!, userId: f.ids.chatToRemove! }) },
    'GET /api/v1/conversations/{id}/messages': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }) },
    'POST /api/v1/conversations/{id}/messages': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }), body: (_f, actor) => ({ body: `Hello from ${actor}` }) },
    'GET /api/v1/conversations/{id}/messages/{messageId}': { allow: members, params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatMessage! }) },
    'PATCH /api/v1/conversations/{id}/messages/{messageId}': { allow: owner, params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatMessage! }), body: () => ({ body: 'Edited' }) },
    'DELETE /api/v1/conversations/{id}/messages/{messageId}': { allow: ['studentA', 'admin'], params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatDoomed! }) },
    'GET /api/v1/conversations/{id}/messages/{messageId}/edits': { allow: members, params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatMessage! }) },
    'POST /api/v1/conversations/{id}/messages/{messageId}/reactions': { allow: members, params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatMessage! }), body: () => ({ emoji: '🎉' }) },
    'DELETE /api/v1/conversations/{id}/messages/{messageId}/reactions/{emoji}': { allow: owner, params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatMessage!, emoji: '👍' }) },
    'POST /api/v1/conversations/{id}/messages/{messageId}/reports': { allow: members, params: (f) => ({ id: f.ids.chatGroup!, messageId: f.ids.chatMessage! }), body: () => ({ reason: 'Matrix report' }) },
    'GET /api/v1/conversations/blocks': { allow: signedIn },
    'POST /api/v1/conversations/blocks': { allow: signedIn, body: (f) => ({ userId: f.ids.chatToAdd! }) },
    'DELETE /api/v1/conversations/blocks/{userId}': { allow: owner, params: (f) => ({ userId: f.ids.chatToRemove! }) },
    'POST /api/v1/conversations/{id}/read': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }), body: () => ({ readSeq: 1 }) },
    'PUT /api/v1/conversations/{id}/mute': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }), body: () => ({ duration: '1h' }) },
    'DELETE /api/v1/conversations/{id}/mute': { allow: members, params: (f) => ({ id: f.ids.chatGroup! }) },
    // Search finds only what the caller belongs to, so everyone signed in may ask.
    'GET /api/v1/conversations/search': { allow: signedIn },
  },
};
