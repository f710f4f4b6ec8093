import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { clientKey } from '../../core/http/client-key.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page, PageQuery } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import {
  Comment,
  CommentCreate,
  CommentPatch,
  CommentQuery,
  CourseFeed,
  FollowEntry,
  FollowState,
  BlockState,
  IdParams,
  ModerationBody,
  Report,
  ReportCreate,
  ReportPatch,
  ReportQuery,
  KindParams,
  Post,
  PostCreate,
  PostListQuery,
  PostPatch,
  Reaction,
  ReactionCreate,
  ReactionQuery,
} from './community.schemas.js';
import type { CommunityService } from './community.service.js';

/** Writing (posts, comments, reactions, follows) needs `community:post`; every role has it, scoped API keys may not. */
export const WRITE = { permission: 'community:post' } as const;
const READ = 'authenticated' as const;

export interface CommunityRouteOptions {
  /** Per-user limits on creating posts and comments, per window. */
  postRateLimit?: { max: number; timeWindow: number };
  commentRateLimit?: { max: number; timeWindow: number };
}

/** Rate limits keyed by the signed-in user (the access guard runs first), by IP otherwise. */
const perUser = (limit: { max: number; timeWindow: number } | undefined) =>
  limit ? { rateLimit: { ...limit, keyGenerator: (request: { principal: { userId: string } | null; ip: string }) => (request.principal ? `user:${request.principal.userId}` : `ip:${clientKey(request.ip)}`) } } : {};

export function communityRoutes(service: CommunityService, options: CommunityRouteOptions = {}) {
  return async (app: AppInstance) => {
    app.addSchema(Post);
    app.addSchema(Comment);
    app.addSchema(Reaction);
    app.addSchema(FollowState);
    app.addSchema(FollowEntry);
    app.addSchema(Report);
    app.addSchema(BlockState);

    // ── posts ──────────────────────────────────────────────────────────
    app.post(
      '/posts',
      {
        config: { access: WRITE, ...perUser(options.postRateLimit) },
        schema: {
          tags: ['community'],
          summary: 'Write a post',
          description:
            'Markdown text with attachment ids, for `public` (every signed-in user), `followers` or a `course` (its members and staff; needs `courseId`). Mentions: `mentionIds`, and `@usr_…` tokens in the text. Emits `community.post.created` and `community.mention.created`.',
          body: PostCreate,
          response: { 201: Type.Ref(Post) },
        },
      },
      async (request, reply) => {
        const post = await service.createPost(requirePrincipal(request), request.body);
        setEtag(reply, post.version);
        return reply.code(201).header('location', `/api/v1/posts/${post.id}`).send(post);
      },
    );

    app.get(
      '/posts/:id',
      { config: { access: READ }, schema: { tags: ['community'], summary: 'Read a post', description: '404 for a post the caller may not see.', params: IdParams, response: { 200: Type.Ref(Post) } } },
      async (request, reply) => {
        const post = await service.getPost(requirePrincipal(request), request.params.id);
        setEtag(reply, post.version);
        return post;
      },
    );

    app.patch(
      '/posts/:id',
      {
        config: { access: WRITE },
        schema: {
          tags: ['community'],
          summary: 'Edit a post (its author)',
          description: 'JSON merge patch. Give the version in `If-Match` or `version`: 412 when it is not the current one.',
          params: IdParams,
          body: PostPatch,
          response: { 200: Type.Ref(Post) },
        },
      },
      async (request, reply) => {
        const post = await service.updatePost(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, post.version);
        return post;
      },
    );

    app.delete(
      '/posts/:id',
      {
        config: { access: WRITE },
        schema: { tags: ['community'], summary: 'Delete a post (its author or a moderator)', description: 'Its comments and reactions go with it. Accepts If-Match.', params: IdParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await service.deletePost(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/posts/:id/pin',
      {
        config: { access: WRITE },
        schema: {
          tags: ['community'],
          summary: 'Pin a course post (course staff)',
          description: 'Pinned posts lead the course feed. Staff of the post’s course, or a moderator. Idempotent.',
          params: IdParams,
          response: { 200: Type.Ref(Post) },
        },
      },
      async (request, reply) => {
        const post = await service.pin(requirePrincipal(request), request.params.id);
        setEtag(reply, post.version);
        return post;
      },
    );

    app.delete(
      '/posts/:id/pin',
      { config: { access: WRITE }, schema: { tags: ['community'], summary: 'Unpin a course post (course staff)', description: 'Idempotent.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.unpin(requirePrincipal(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    // ── feeds ──────────────────────────────────────────────────────────
    const sortNote = '`sort=recent` (newest first, default) or `sort=top` (see docs/community.md for the ranking). Pages by keyset: posts that arrive while paging never make a page repeat or skip an item.';
    app.get(
      '/feed',
      {
        config: { access: READ },
        schema: {
          tags: ['community'],
          summary: 'The home feed',
          description: `The caller's own posts, the public and followers-only posts of the people they follow, and the posts of their courses. ${sortNote}`,
          querystring: PostListQuery,
          response: { 200: Page(Type.Ref(Post)) },
        },
      },
      async (request) => service.homeFeed(requirePrincipal(request), request.query),
    );

    app.get(
      '/users/:id/posts',
      {
        config: { access: READ },
        schema: { tags: ['community'], summary: "A user's posts", description: `Those the caller may see. ${sortNote}`, params: IdParams, querystring: PostListQuery, response: { 200: Page(Type.Ref(Post)) } },
      },
      async (request) => service.userPosts(requirePrincipal(request), request.params.id, request.query),
    );

    app.get(
      '/courses/:id/feed',
      {
        config: { access: READ },
        schema: {
          tags: ['community'],
          summary: "A course's feed",
          description: `For the course's members and staff, and moderators (404 for anyone else). Pinned posts come in \`pinned\` on the first page. ${sortNote}`,
          params: IdParams,
          querystring: PostListQuery,
          response: { 200: CourseFeed },
        },
      },
      async (request) => service.courseFeed(requirePrincipal(request), request.params.id, request.query),
    );

    // ── comments ───────────────────────────────────────────────────────
    app.get(
      '/posts/:id/comments',
      {
        config: { access: READ },
        schema: { tags: ['community'], summary: "List a post's comments", description: 'Oldest first. Top-level comments, or with `parentId` the replies to one.', params: IdParams, querystring: CommentQuery, response: { 200: Page(Type.Ref(Comment)) } },
      },
      async (request) => service.listComments(requirePrincipal(request), request.params.id, request.query),
    );

    app.post(
      '/posts/:id/comments',
      {
        config: { access: WRITE, ...perUser(options.commentRateLimit) },
        schema: {
          tags: ['community'],
          summary: 'Comment on a post, or reply to a comment',
          description: 'Two levels: `parentId` must be a top-level comment of this post. Emits `community.comment.created` and `community.mention.created`.',
          params: IdParams,
          body: CommentCreate,
          response: { 201: Type.Ref(Comment) },
        },
      },
      async (request, reply) => {
        const comment = await service.createComment(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, comment.version);
        return reply.code(201).header('location', `/api/v1/comments/${comment.id}`).send(comment);
      },
    );

    app.get(
      '/comments/:id',
      { config: { access: READ }, schema: { tags: ['community'], summary: 'Read a comment', params: IdParams, response: { 200: Type.Ref(Comment) } } },
      async (request, reply) => {
        const comment = await service.getComment(requirePrincipal(request), request.params.id);
        setEtag(reply, comment.version);
        return comment;
      },
    );

    app.patch(
      '/comments/:id',
      {
        config: { access: WRITE },
        schema: { tags: ['community'], summary: 'Edit a comment (its author)', description: 'Accepts If-Match or `version`.', params: IdParams, body: CommentPatch, response: { 200: Type.Ref(Comment) } },
      },
      async (request, reply) => {
        const comment = await service.updateComment(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, comment.version);
        return comment;
      },
    );

    app.delete(
      '/comments/:id',
      {
        config: { access: WRITE },
        schema: {
          tags: ['community'],
          summary: "Delete a comment (its author, the post's author or a moderator)",
          description: 'Its replies go with it. Accepts If-Match.',
          params: IdParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await service.deleteComment(requirePrincipal(request), request.params.id, expectedVersion(request));
        return reply.code(204).send(null);
      },
    );

    // ── reactions ──────────────────────────────────────────────────────
    for (const targetType of ['post', 'comment'] as const) {
      const base = targetType === 'post' ? '/posts/:id/reactions' : '/comments/:id/reactions';
      const what = targetType === 'post' ? 'a post' : 'a comment';
      app.get(
        base,
        {
          config: { access: READ },
          schema: { tags: ['community'], summary: `List the reactions to ${what}`, description: 'Newest first; `kind` filters.', params: IdParams, querystring: ReactionQuery, response: { 200: Page(Type.Ref(Reaction)) } },
        },
        async (request) => service.listReactions(requirePrincipal(request), targetType, request.params.id, request.query),
      );
      app.post(
        base,
        {
          config: { access: WRITE },
          schema: {
            tags: ['community'],
            summary: `React to ${what}`,
            description: 'One reaction per user and kind: 201 when new, 200 with the existing one otherwise. Emits `community.reaction.created`.',
            params: IdParams,
            body: ReactionCreate,
            response: { 200: Type.Ref(Reaction), 201: Type.Ref(Reaction) },
          },
        },
        async (request, reply) => {
          const { created, reaction } = await service.react(requirePrincipal(request), targetType, request.params.id, request.body.kind);
          const location = `/api/v1/${targetType}s/${request.params.id}/reactions/${reaction.kind}`;
          return reply.code(created ? 201 : 200).header('location', location).send(reaction);
        },
      );
      app.delete(
        `${base}/:kind`,
        {
          config: { access: WRITE },
          schema: { tags: ['community'], summary: `Take back one's reaction to ${what}`, description: 'A no-op when there is none.', params: KindParams, response: { 204: Type.Null() } },
        },
        async (request, reply) => {
          await service.unreact(requirePrincipal(request), targetType, request.params.id, request.params.kind);
          return reply.code(204).send(null);
        },
      );
    }

    // ── moderation ─────────────────────────────────────────────────────
    for (const targetType of ['post', 'comment'] as const) {
      const base = targetType === 'post' ? '/posts/:id' : '/comments/:id';
      const what = targetType === 'post' ? 'a post' : 'a comment';
      app.post(
        `${base}/reports`,
        {
          config: { access: WRITE },
          schema: {
            tags: ['community'],
            summary: `Report ${what} to the moderators`,
            description: 'One report per user and target: 201 when new, 200 with the first one otherwise. Moderators (and the course staff, for course posts) see it in GET /moderation/reports.',
            params: IdParams,
            body: ReportCreate,
            response: { 200: Type.Ref(Report), 201: Type.Ref(Report) },
          },
        },
        async (request, reply) => {
          const { created, report } = await service.report(requirePrincipal(request), targetType, request.params.id, request.body);
          return reply.code(created ? 201 : 200).header('location', `/api/v1/moderation/reports/${report.id}`).send(report);
        },
      );
      app.put(
        `${base}/moderation`,
        {
          config: { access: WRITE },
          schema: {
            tags: ['community'],
            summary: `Hide, remove or restore ${what} (moderators, course staff)`,
            description: '`hidden` and `removed` need a `reason`, which the author is told (`community.*.moderated`); the open reports on it are resolved.',
            params: IdParams,
            body: ModerationBody,
            response: { 200: targetType === 'post' ? Type.Ref(Post) : Type.Ref(Comment) },
          },
        },
        async (request, reply) => {
          const result = await service.moderate(requirePrincipal(request), targetType, request.params.id, request.body);
          setEtag(reply, result.version);
          return result;
        },
      );
    }

    app.get(
      '/moderation/reports',
      {
        config: { access: READ },
        schema: {
          tags: ['community'],
          summary: 'The moderation queue',
          description: 'Oldest first, `status=open` by default. Moderators see every report; course staff the reports on their courses’ posts; anyone else an empty list.',
          querystring: ReportQuery,
          response: { 200: Page(Type.Ref(Report)) },
        },
      },
      async (request) => service.listReports(requirePrincipal(request), request.query),
    );

    app.patch(
      '/moderation/reports/:id',
      {
        config: { access: WRITE },
        schema: {
          tags: ['community'],
          summary: 'Dismiss a report, or reopen it',
          description: 'Moderators and the course staff. Accepts If-Match or `version`.',
          params: IdParams,
          body: ReportPatch,
          response: { 200: Type.Ref(Report) },
        },
      },
      async (request, reply) => {
        const report = await service.updateReport(requirePrincipal(request), request.params.id, expectedVersion(request), request.body);
        setEtag(reply, report.version);
        return report;
      },
    );

    // ── blocks ─────────────────────────────────────────────────────────
    app.put(
      '/users/:id/block',
      {
        config: { access: WRITE },
        schema: {
          tags: ['community'],
          summary: 'Block a user',
          description: 'Their posts and comments disappear from your feeds and comment lists; follows between you end, and they cannot follow you. Idempotent.',
          params: IdParams,
          response: { 200: Type.Ref(BlockState) },
        },
      },
      async (request) => service.block(requirePrincipal(request), request.params.id),
    );
    app.delete(
      '/users/:id/block',
      { config: { access: WRITE }, schema: { tags: ['community'], summary: 'Unblock a user', description: 'Idempotent.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.unblock(requirePrincipal(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/blocks',
      { config: { access: READ }, schema: { tags: ['community'], summary: 'The users the caller blocks', description: 'Newest first.', querystring: PageQuery, response: { 200: Page(Type.Ref(FollowEntry)) } } },
      async (request) => service.listBlocks(requirePrincipal(request), request.query),
    );

    // ── follows ────────────────────────────────────────────────────────
    app.get(
      '/users/:id/follow',
      { config: { access: READ }, schema: { tags: ['community'], summary: 'Whether the caller follows a user, and their follower counts', params: IdParams, response: { 200: Type.Ref(FollowState) } } },
      async (request) => service.followState(requirePrincipal(request), request.params.id),
    );
    app.put(
      '/users/:id/follow',
      {
        config: { access: WRITE },
        schema: { tags: ['community'], summary: 'Follow a user', description: 'Idempotent. Emits `community.follow.created` the first time.', params: IdParams, response: { 200: Type.Ref(FollowState) } },
      },
      async (request) => service.follow(requirePrincipal(request), request.params.id),
    );
    app.delete(
      '/users/:id/follow',
      { config: { access: WRITE }, schema: { tags: ['community'], summary: 'Stop following a user', description: 'Idempotent.', params: IdParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.unfollow(requirePrincipal(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
    for (const side of ['followers', 'following'] as const) {
      app.get(
        `/users/:id/${side}`,
        {
          config: { access: READ },
          schema: {
            tags: ['community'],
            summary: side === 'followers' ? "List a user's followers" : 'List whom a user follows',
            description: 'Newest first.',
            params: IdParams,
            querystring: PageQuery,
            response: { 200: Page(Type.Ref(FollowEntry)) },
          },
        },
        async (request) => service.listFollows(requirePrincipal(request), request.params.id, side, request.query),
      );
    }
  };
}
