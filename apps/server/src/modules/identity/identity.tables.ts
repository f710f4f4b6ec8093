/** Row types of the identity module's tables (snake_case, as stored). */

export type UserStatus = 'active' | 'disabled' | 'deleted';

export interface UserRow {
  id: string;
  email: string;
  email_verified_at: string | null;
  display_name: string;
  password_hash: string | null;
  /** Comma-separated role names. */
  roles: string;
  status: UserStatus;
  /** A person signs in; a service account (a program) acts only through API keys an admin issued. */
  kind: 'person' | 'service';
  /** The user's IANA time zone (its case corrected), or null: not set, days are UTC days. */
  time_zone: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface SessionRow {
  id: string;
  user_id: string;
  device: string | null;
  user_agent: string | null;
  ip: string | null;
  mfa_at: string | null;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokenRow {
  token_hash: string;
  session_id: string;
  generation: number;
  created_at: string;
  used_at: string | null;
}

export type OneTimePurpose = 'verify-email' | 'reset-password' | 'change-email';

export interface OneTimeTokenRow {
  token_hash: string;
  user_id: string;
  purpose: OneTimePurpose;
  data: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface SigningKeyRow {
  kid: string;
  generation: number;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface LoginThrottleRow {
  key: string;
  failures: number;
  last_failure_at: string;
  locked_until: string | null;
}

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  /** JSON array of permission names. */
  permissions: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditEventRow {
  id: string;
  type: string;
  actor_id: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON object. */
  details: string;
  created_at: string;
}

export interface TotpRow {
  user_id: string;
  /** AES-256-GCM with a key from the secret store: the server must read the secret to check codes. */
  secret_encrypted: string;
  confirmed_at: string | null;
  /** The time step of the last accepted code: a code is never accepted twice. */
  last_time_step: number | null;
  created_at: string;
}

export interface RecoveryCodeRow {
  code_hash: string;
  user_id: string;
  created_at: string;
  used_at: string | null;
}

export interface MfaChallengeRow {
  token_hash: string;
  user_id: string;
  device: string | null;
  attempts: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface PasskeyRow {
  id: string;
  /** The WebAuthn credential id (base64url, up to 1023 bytes). */
  credential_id: string;
  user_id: string;
  name: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transport hints. */
  transports: string;
  device_type: string;
  backed_up: number;
  created_at: string;
  last_used_at: string | null;
}

export interface WebauthnChallengeRow {
  challenge: string;
  purpose: 'register' | 'login';
  user_id: string | null;
  expires_at: string;
  used_at: string | null;
}

/** A single-sign-on attempt between the redirect to the provider and its callback; keyed by the state's hash. */
export interface OidcFlowRow {
  state_hash: string;
  provider: string;
  redirect_uri: string;
  expires_at: string;
  used_at: string | null;
}

/** An account at an OpenID Connect provider (issuer's `sub`) linked to a Lyceum user. */
export interface OidcLinkRow {
  provider: string;
  subject: string;
  user_id: string;
  email: string;
  created_at: string;
  last_used_at: string;
}

/** The one-time code a client exchanges for tokens after single sign-on; stored hashed. */
export interface OidcLoginCodeRow {
  code_hash: string;
  user_id: string;
  provider: string;
  expires_at: string;
  used_at: string | null;
}

export interface IdentityTables {
  identity_oidc_flow: OidcFlowRow;
  identity_oidc_link: OidcLinkRow;
  identity_oidc_login_code: OidcLoginCodeRow;
  identity_passkey: PasskeyRow;
  identity_webauthn_challenge: WebauthnChallengeRow;
  identity_totp: TotpRow;
  identity_recovery_code: RecoveryCodeRow;
  identity_mfa_challenge: MfaChallengeRow;
  identity_user: UserRow;
  identity_session: SessionRow;
  identity_refresh_token: RefreshTokenRow;
  identity_one_time_token: OneTimeTokenRow;
  identity_signing_key: SigningKeyRow;
  identity_login_throttle: LoginThrottleRow;
  identity_api_key: ApiKeyRow;
  identity_audit_event: AuditEventRow;
  identity_setup: { id: number; admin_id: string; created_at: string };
}
