/** Sends text messages; one implementation per provider wire protocol. */
export interface SmsProvider {
  /** Sends `body` to `to` (E.164). Resolves with the provider's message id; throws an SmsError otherwise. */
  send(to: string, body: string): Promise<{ id: string }>;
}

/** A refused or failed send; `retryable` says whether trying again later can succeed (rate limit, outage). */
export class SmsError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The provider's HTTP status (0: no answer) and error code, when it gave them. */
    readonly status: number,
    readonly code?: string | number,
  ) {
    super(message);
    this.name = 'SmsError';
  }
}
