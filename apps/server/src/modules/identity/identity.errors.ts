import { AppError } from '../../core/http/problem.js';

/** Every error code the identity module answers with. Clients branch on these, never on the text. */
export const IdentityErrors = {
  AUTH_INVALID_CREDENTIALS: 'AUTH_INVALID_CREDENTIALS',
  AUTH_INVALID_TOKEN: 'AUTH_INVALID_TOKEN',
  AUTH_TOKEN_EXPIRED: 'AUTH_TOKEN_EXPIRED',
  AUTH_SESSION_ENDED: 'AUTH_SESSION_ENDED',
  AUTH_REFRESH_INVALID: 'AUTH_REFRESH_INVALID',
  AUTH_REFRESH_REUSED: 'AUTH_REFRESH_REUSED',
  AUTH_CSRF_REQUIRED: 'AUTH_CSRF_REQUIRED',
  AUTH_LOGIN_LOCKED: 'AUTH_LOGIN_LOCKED',
  AUTH_ACCOUNT_DISABLED: 'AUTH_ACCOUNT_DISABLED',
  AUTH_EMAIL_NOT_VERIFIED: 'AUTH_EMAIL_NOT_VERIFIED',
  AUTH_SESSION_REQUIRED: 'AUTH_SESSION_REQUIRED',
  IDENTITY_PASSWORD_TOO_SHORT: 'IDENTITY_PASSWORD_TOO_SHORT',
  IDENTITY_PASSWORD_TOO_COMMON: 'IDENTITY_PASSWORD_TOO_COMMON',
  IDENTITY_PASSWORD_TOO_LONG: 'IDENTITY_PASSWORD_TOO_LONG',
  IDENTITY_TOKEN_INVALID: 'IDENTITY_TOKEN_INVALID',
  IDENTITY_RESEND_TOO_SOON: 'IDENTITY_RESEND_TOO_SOON',
  IDENTITY_EMAIL_TAKEN: 'IDENTITY_EMAIL_TAKEN',
  IDENTITY_SESSION_NOT_FOUND: 'IDENTITY_SESSION_NOT_FOUND',
  IDENTITY_USER_NOT_FOUND: 'IDENTITY_USER_NOT_FOUND',
  IDENTITY_TIME_ZONE_INVALID: 'IDENTITY_TIME_ZONE_INVALID',
  IDENTITY_API_KEY_NOT_FOUND: 'IDENTITY_API_KEY_NOT_FOUND',
  IDENTITY_PERMISSION_NOT_HELD: 'IDENTITY_PERMISSION_NOT_HELD',
  IDENTITY_LAST_ADMIN: 'IDENTITY_LAST_ADMIN',
  IDENTITY_SETUP_UNAVAILABLE: 'IDENTITY_SETUP_UNAVAILABLE',
  IDENTITY_SETUP_TOKEN_INVALID: 'IDENTITY_SETUP_TOKEN_INVALID',
  AUTH_SSO_UNKNOWN_PROVIDER: 'AUTH_SSO_UNKNOWN_PROVIDER',
  AUTH_SSO_REDIRECT_NOT_ALLOWED: 'AUTH_SSO_REDIRECT_NOT_ALLOWED',
  AUTH_SSO_CODE_INVALID: 'AUTH_SSO_CODE_INVALID',
} as const;

export type IdentityErrorCode = (typeof IdentityErrors)[keyof typeof IdentityErrors];

const bearer = (error: string) => ({ 'www-authenticate': `Bearer error="${error}"` });

export const invalidCredentials = () => new AppError(401, IdentityErrors.AUTH_INVALID_CREDENTIALS, 'The email or password is wrong.');
export const invalidToken = () => new AppError(401, IdentityErrors.AUTH_INVALID_TOKEN, 'The access token is invalid.', { headers: bearer('invalid_token') });
export const tokenExpired = () => new AppError(401, IdentityErrors.AUTH_TOKEN_EXPIRED, 'The access token has expired; refresh it.', { headers: bearer('invalid_token') });
export const sessionEnded = () => new AppError(401, IdentityErrors.AUTH_SESSION_ENDED, 'This session has ended; sign in again.', { headers: bearer('invalid_token') });
export const refreshInvalid = () => new AppError(401, IdentityErrors.AUTH_REFRESH_INVALID, 'The refresh token is invalid or expired; sign in again.');
export const refreshReused = () =>
  new AppError(401, IdentityErrors.AUTH_REFRESH_REUSED, 'This refresh token was already used; the session has been ended for safety. Sign in again.');
export const tokenInvalid = () => new AppError(400, IdentityErrors.IDENTITY_TOKEN_INVALID, 'The link is invalid, expired or already used.');
