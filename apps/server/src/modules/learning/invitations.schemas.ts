import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../core/http/pagination.js';

const DateTime = Type.String({ format: 'date-time', maxLength: 40 });

export const InvitationStatus = Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('declined'), Type.Literal('revoked'), Type.Literal('expired')], {
  description: '`expired`: still pending when `expiresAt` passed.',
});

export const Invitation = Type.Object(
  {
    id: Type.String(),
    courseId: Type.String(),
    courseTitle: Type.String(),
    userId: Type.Union([Type.String(), Type.Null()], { description: 'The invitee, for an invitation by user id (and, to the invitee, always). Null in the teacher’s view of an invitation by email.' }),
    email: Type.Union([Type.String(), Type.Null()], { description: 'The address the teacher invited, for an invitation by email.' }),
    displayName: Type.Union([Type.String(), Type.Null()], { description: 'The invitee’s display name, when `userId` is shown.' }),
    invitedBy: Type.String(),
    status: InvitationStatus,
    createdAt: DateTime,
    expiresAt: DateTime,
    decidedAt: Type.Union([DateTime, Type.Null()]),
    version: Type.Integer(),
  },
  { $id: 'LearningInvitation', additionalProperties: false },
);
export type InvitationView = Static<typeof Invitation>;

export const InvitationCreate = Type.Object(
  {
    userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Invite this user.' })),
    email: Type.Optional(Type.String({ format: 'email', minLength: 3, maxLength: 254, description: 'Invite the account with this email (compared case-insensitively).' })),
  },
  { additionalProperties: false, description: 'Exactly one of `userId` and `email`.' },
);
export type InvitationCreate = Static<typeof InvitationCreate>;

export const InvitationQuery = Type.Object({ ...PageQuery.properties, status: Type.Optional(InvitationStatus) }, { additionalProperties: false });
export type InvitationQuery = Static<typeof InvitationQuery>;

export const InvitationParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }), invitationId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
