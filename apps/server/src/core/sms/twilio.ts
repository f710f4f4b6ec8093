import type { SmsConfig } from '../config/config.js';
import { SmsError, type SmsProvider } from './sms-provider.js';

/**
 * SMS over the Twilio Messages API (`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, Basic
 * auth, form-encoded), which other providers and local test servers also speak. 429 and 5xx (and
 * no answer) are retryable; any other 4xx is final. The auth token is only ever in the header.
 */
export function createTwilioSms(config: Pick<SmsConfig, 'baseUrl' | 'accountSid' | 'authToken' | 'from' | 'messagingServiceSid'>, timeoutMs = 15_000): SmsProvider {
  const endpoint = `${config.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`;
  return {
    async send(to, body) {
      const form = new URLSearchParams({ To: to, Body: body });
      if (config.messagingServiceSid) form.set('MessagingServiceSid', config.messagingServiceSid);
      else form.set('From', config.from!);
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        throw new SmsError(`SMS provider unreachable: ${err instanceof Error ? err.message : String(err)}`, true, 0);
      }
      const answer = (await response.json().catch(() => ({}))) as { sid?: unknown; code?: unknown; message?: unknown };
      if (response.ok && typeof answer.sid === 'string') return { id: answer.sid };
      const retryable = response.status === 429 || response.status >= 500;
      const code = typeof answer.code === 'number' || typeof answer.code === 'string' ? answer.code : undefined;
      const message = typeof answer.message === 'string' ? answer.message.slice(0, 300) : `no message id in the answer`;
      throw new SmsError(`SMS provider answered ${response.status}${code === undefined ? '' : ` (code ${code})`}: ${message}`, retryable, response.status, code);
    },
  };
}
