/** The events the identity module appends to the log, with their payloads. */
export const IdentityEvents = {
  userRegistered: 'identity.user.registered',
  userUpdated: 'identity.user.updated',
  userDeleted: 'identity.user.deleted',
  sessionRevoked: 'identity.session.revoked',
  apiKeyRevoked: 'identity.apiKey.revoked',
  signingKeyRotated: 'identity.signingKey.rotated',
} as const;

export interface UserRegisteredPayload {
  userId: string;
}

export interface UserUpdatedPayload {
  userId: string;
  version: number;
  fields: string[];
}

/** Other modules erase or anonymise what they hold about the user when they see this. */
export interface UserDeletedPayload {
  userId: string;
}

/** Every node drops these sessions from its liveness cache and disconnects their sockets. */
export interface SessionRevokedPayload {
  userId: string;
  sessionIds: string[];
  reason: SessionEndReason;
}

export type SessionEndReason =
  | 'logout'
  | 'logout-all'
  | 'revoked-by-user'
  | 'refresh-reuse'
  | 'password-changed'
  | 'password-reset'
  | 'roles-changed'
  | 'account-disabled'
  | 'account-deleted'
  | 'account-claimed-by-sso'
  | 'admin';

export interface ApiKeyRevokedPayload {
  userId: string;
  apiKeyIds: string[];
}

export interface SigningKeyRotatedPayload {
  kid: string;
}
