import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { requirePrincipal } from '../../core/http/access.js';
import { expectedVersion, setEtag } from '../../core/http/etag.js';
import { Page, PageQuery } from '../../core/http/pagination.js';
import type { AppInstance } from '../../core/module.js';
import {
  AddMember,
  Block,
  BlockParams,
  CreateBlock,
  AddReaction,
  Conversation,
  ConversationParams,
  ConversationPatch,
  CreateConversation,
  EditMessage,
  MarkRead,
  Member,
  MemberParams,
  MemberPatch,
  Message,
  MessageEdit,
  MessageParams,
  MessageQuery,
  MuteInput,
  MuteState,
  ReactionParams,
  ReadState,
  Report,
  ReportMessage,
  SearchHit,
  SearchQuery,
  SendMessage,
} from './chat.schemas.js';
import type { ChatService } from './chat.service.js';

const tags = ['chat'];
/** Chat is writing messages: the `community:post` permission every role holds, which a narrowly scoped API key may not. */
export const CHAT_PERMISSION = 'community:post';
const access = { permission: CHAT_PERMISSION } as const;

export interface ChatRouteDeps {
  service: ChatService;
}

const created = (reply: FastifyReply, location: string, body: unknown, isNew = true) => reply.code(isNew ? 201 : 200).header('location', location).send(body);

export function chatRoutes(deps: ChatRouteDeps) {
  const { service } = deps;
  return async (app: AppInstance) => {
    app.addSchema(Conversation);
    app.addSchema(Member);
    app.addSchema(Message);
    app.addSchema(MessageEdit);
    app.addSchema(ReadState);
    app.addSchema(Report);
    app.addSchema(Block);
    app.addSchema(MuteState);
    app.addSchema(SearchHit);

    // ── conversations ───────────────────────────────────────────────────
    app.post(
      '/conversations',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Start a direct conversation, create a group, or open a course channel',
          description: 'A direct conversation exists once per pair of people, and a course channel once per course: asking again answers 200 with the existing one. A group is owned by its creator. A course channel is for the course’s staff and enrolled students.',
          body: CreateConversation,
          response: { 200: Type.Ref(Conversation), 201: Type.Ref(Conversation) },
        },
      },
      async (request, reply) => {
        const result = await service.createConversation(requirePrincipal(request), request.body);
        setEtag(reply, result.conversation.version);
        return created(reply, `/api/v1/conversations/${result.conversation.id}`, result.conversation, result.created);
      },
    );

    app.get(
      '/conversations',
      {
        config: { access },
        schema: {
          tags,
          summary: 'List my conversations, most recently active first, with unread counts and the last message',
          querystring: PageQuery,
          response: { 200: Page(Type.Ref(Conversation)) },
        },
      },
      async (request) => service.list(requirePrincipal(request), request.query),
    );

    app.get(
      '/conversations/:id',
      { config: { access }, schema: { tags, summary: 'Read a conversation I am a member of', params: ConversationParams, response: { 200: Type.Ref(Conversation) } } },
      async (request, reply) => {
        const conversation = await service.get(requirePrincipal(request), request.params.id);
        setEtag(reply, conversation.version);
        return conversation;
      },
    );

    app.patch(
      '/conversations/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Rename a group (its owner and admins)',
          description: 'Send `If-Match` (or `version`) to change only what you read; a stale version answers 412.',
          params: ConversationParams,
          body: ConversationPatch,
          response: { 200: Type.Ref(Conversation) },
        },
      },
      async (request, reply) => {
        const conversation = await service.update(requirePrincipal(request), request.params.id, request.body, expectedVersion(request));
        setEtag(reply, conversation.version);
        return conversation;
      },
    );

    app.delete(
      '/conversations/:id',
      {
        config: { access },
        schema: { tags, summary: 'Leave a group', description: 'An owner who leaves hands the group to the oldest admin, else the oldest member.', params: ConversationParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await service.leave(requirePrincipal(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    // ── members ─────────────────────────────────────────────────────────
    app.get(
      '/conversations/:id/members',
      {
        config: { access },
        schema: {
          tags,
          summary: 'List the members of a conversation, with their read receipts (readSeq, deliveredSeq)',
          params: ConversationParams,
          querystring: PageQuery,
          response: { 200: Page(Type.Ref(Member)) },
        },
      },
      async (request) => service.listMembers(requirePrincipal(request), request.params.id, request.query),
    );

    app.post(
      '/conversations/:id/members',
      {
        config: { access },
        schema: { tags, summary: 'Add a member to a group (owner and admins; only the owner appoints admins)', params: ConversationParams, body: AddMember, response: { 201: Type.Ref(Member) } },
      },
      async (request, reply) => {
        const member = await service.addMember(requirePrincipal(request), request.params.id, request.body);
        return created(reply, `/api/v1/conversations/${request.params.id}/members/${member.userId}`, member);
      },
    );

    app.patch(
      '/conversations/:id/members/:userId',
      { config: { access }, schema: { tags, summary: "Change a member's role (the owner)", params: MemberParams, body: MemberPatch, response: { 200: Type.Ref(Member) } } },
      async (request) => service.updateMember(requirePrincipal(request), request.params.id, request.params.userId, request.body),
    );

    app.delete(
      '/conversations/:id/members/:userId',
      {
        config: { access },
        schema: { tags, summary: 'Remove a member (the owner; admins remove plain members; anyone removes themself)', params: MemberParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await service.removeMember(requirePrincipal(request), request.params.id, request.params.userId);
        return reply.code(204).send(null);
      },
    );

    // ── messages ────────────────────────────────────────────────────────
    app.post(
      '/conversations/:id/messages',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Send a message',
          description: 'Give a `clientMessageId`: a resend after a lost answer returns the message stored the first time (200) instead of storing it twice.',
          params: ConversationParams,
          body: SendMessage,
          response: { 200: Type.Ref(Message), 201: Type.Ref(Message) },
        },
      },
      async (request, reply) => {
        const result = await service.send(requirePrincipal(request), request.params.id, request.body);
        setEtag(reply, result.message.version);
        return created(reply, `/api/v1/conversations/${request.params.id}/messages/${result.message.id}`, result.message, result.created);
      },
    );

    app.get(
      '/conversations/:id/messages',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Read the history by seq: newest first (optionally before a seq), or oldest first after a seq',
          params: ConversationParams,
          querystring: MessageQuery,
          response: { 200: Page(Type.Ref(Message)) },
        },
      },
      async (request) => service.listMessages(requirePrincipal(request), request.params.id, request.query),
    );

    app.get(
      '/conversations/:id/messages/:messageId',
      { config: { access }, schema: { tags, summary: 'Read one message', params: MessageParams, response: { 200: Type.Ref(Message) } } },
      async (request, reply) => {
        const message = await service.getMessage(requirePrincipal(request), request.params.id, request.params.messageId);
        setEtag(reply, message.version);
        return message;
      },
    );

    app.patch(
      '/conversations/:id/messages/:messageId',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Edit my message (the earlier text is kept in its edit history)',
          params: MessageParams,
          body: EditMessage,
          response: { 200: Type.Ref(Message) },
        },
      },
      async (request, reply) => {
        const message = await service.edit(requirePrincipal(request), request.params.id, request.params.messageId, request.body, expectedVersion(request));
        setEtag(reply, message.version);
        return message;
      },
    );

    app.delete(
      '/conversations/:id/messages/:messageId',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Delete a message (leaves a tombstone with its seq)',
          description: 'The sender, the owner and admins of a group, staff of a course channel, and administrators may delete.',
          params: MessageParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await service.deleteMessage(requirePrincipal(request), request.params.id, request.params.messageId);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/conversations/:id/messages/:messageId/edits',
      {
        config: { access },
        schema: { tags, summary: "A message's earlier texts, oldest first", params: MessageParams, querystring: PageQuery, response: { 200: Page(Type.Ref(MessageEdit)) } },
      },
      async (request) => service.listEdits(requirePrincipal(request), request.params.id, request.params.messageId, request.query),
    );

    app.post(
      '/conversations/:id/messages/:messageId/reactions',
      {
        config: { access },
        schema: { tags, summary: 'React to a message with an emoji (once per emoji)', params: MessageParams, body: AddReaction, response: { 201: Type.Ref(Message) } },
      },
      async (request, reply) => {
        const message = await service.addReaction(requirePrincipal(request), request.params.id, request.params.messageId, request.body.emoji);
        return created(reply, `/api/v1/conversations/${request.params.id}/messages/${message.id}/reactions/${encodeURIComponent(request.body.emoji)}`, message);
      },
    );

    app.delete(
      '/conversations/:id/messages/:messageId/reactions/:emoji',
      { config: { access }, schema: { tags, summary: 'Take back my reaction', params: ReactionParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.removeReaction(requirePrincipal(request), request.params.id, request.params.messageId, request.params.emoji);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/conversations/:id/messages/:messageId/reports',
      {
        config: { access },
        schema: { tags, summary: 'Report a message to the administrators', params: MessageParams, body: ReportMessage, response: { 201: Type.Ref(Report) } },
      },
      async (request, reply) => {
        const report = await service.report(requirePrincipal(request), request.params.id, request.params.messageId, request.body.reason);
        return created(reply, `/api/v1/conversations/${request.params.id}/messages/${request.params.messageId}/reports/${report.id}`, report);
      },
    );

    // ── blocks ──────────────────────────────────────────────────────────
    app.get(
      '/conversations/blocks',
      { config: { access }, schema: { tags, summary: 'List the people I blocked', querystring: PageQuery, response: { 200: Page(Type.Ref(Block)) } } },
      async (request) => service.listBlocks(requirePrincipal(request), request.query),
    );

    app.post(
      '/conversations/blocks',
      {
        config: { access },
        schema: { tags, summary: 'Block someone: no direct messages between us any more', description: 'Idempotent. Groups and course channels are unaffected.', body: CreateBlock, response: { 201: Type.Ref(Block) } },
      },
      async (request, reply) => {
        const block = await service.block(requirePrincipal(request), request.body.userId);
        return created(reply, `/api/v1/conversations/blocks/${block.userId}`, block);
      },
    );

    app.delete(
      '/conversations/blocks/:userId',
      { config: { access }, schema: { tags, summary: 'Unblock someone', params: BlockParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.unblock(requirePrincipal(request), request.params.userId);
        return reply.code(204).send(null);
      },
    );

    // ── muting ──────────────────────────────────────────────────────────
    app.put(
      '/conversations/:id/mute',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Mute a conversation for myself: no notifications for its messages',
          description:
            'For a preset `duration` (`1h`, `8h`, `1w`), `until` a time, or indefinitely (`{}` or `{"until":null}`). Messages still arrive live and count as unread; mentions of me still notify. Muting again replaces the earlier mute.',
          params: ConversationParams,
          body: MuteInput,
          response: { 200: Type.Ref(MuteState) },
        },
      },
      async (request) => service.mute(requirePrincipal(request), request.params.id, request.body),
    );

    app.delete(
      '/conversations/:id/mute',
      { config: { access }, schema: { tags, summary: 'Unmute a conversation (also when it was not muted)', params: ConversationParams, response: { 204: Type.Null() } } },
      async (request, reply) => {
        await service.unmute(requirePrincipal(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    // ── search ──────────────────────────────────────────────────────────
    app.get(
      '/conversations/search',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Search the messages of my conversations (full text), newest first',
          description:
            'Every word of `q` must appear in the message’s current text (case aside, accents count; whole words). Deleted messages never match. Each hit has a plain-text `snippet` with the matched words as offsets: escape the text when rendering it.',
          querystring: SearchQuery,
          response: { 200: Page(Type.Ref(SearchHit)) },
        },
      },
      async (request) => service.search(requirePrincipal(request), request.query),
    );

    // ── read state ──────────────────────────────────────────────────────
    app.post(
      '/conversations/:id/read',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Mark messages read (and delivered) up to a seq',
          description: 'Watermarks only move forward and never past the last message. Unread count = lastSeq − readSeq.',
          params: ConversationParams,
          body: MarkRead,
          response: { 200: Type.Ref(ReadState) },
        },
      },
      async (request) => service.markRead(requirePrincipal(request), request.params.id, request.body),
    );
  };
}
