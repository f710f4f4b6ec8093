import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: mkdtempSync(path.join(os.tmpdir(), 'lyceum-config-')) });
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};
const twilio = { SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 'hunter2-token', TWILIO_FROM: '+15005550006' };

describe('notification options', () => {
  it('has no SMS unless a provider is configured, and the channel delays default to 2 min, 30 s and 1 min', () => {
    const config = load({});
    expect(config.sms).toBeUndefined();
    expect(config.notifications).toEqual({ emailDelayMs: 120_000, pushDelayMs: 30_000, smsDelayMs: 60_000 });
    expect(load({ NOTIFICATIONS_EMAIL_DELAY_SECONDS: '300', NOTIFICATIONS_PUSH_DELAY_SECONDS: '0' }).notifications).toMatchObject({ emailDelayMs: 300_000, pushDelayMs: 0 });
    expect(problemsOf({ NOTIFICATIONS_PUSH_DELAY_SECONDS: '-5' })[0]).toMatch(/^NOTIFICATIONS_PUSH_DELAY_SECONDS: must be between 0 and 86400/);
  });

  it('reads a Twilio-compatible provider, with api.twilio.com by default', () => {
    expect(load(twilio).sms).toEqual({ provider: 'twilio', baseUrl: 'https://api.twilio.com', accountSid: twilio.TWILIO_ACCOUNT_SID, authToken: 'hunter2-token', from: '+15005550006', messagingServiceSid: undefined });
    const { TWILIO_FROM: _, ...noFrom } = twilio;
    expect(load({ ...noFrom, TWILIO_MESSAGING_SERVICE_SID: 'MG0123', TWILIO_BASE_URL: 'http://127.0.0.1:8080/' }).sms).toMatchObject({ messagingServiceSid: 'MG0123', from: undefined, baseUrl: 'http://127.0.0.1:8080' });
  });

  it('reports every missing or bad SMS setting at start, never printing the auth token', () => {
    expect(problemsOf({ SMS_PROVIDER: 'twilio' }).map((p) => p.split(':')[0])).toEqual(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']);
    expect(problemsOf({ SMS_PROVIDER: 'nexmo' })[0]).toMatch(/^SMS_PROVIDER: must be one of twilio/);
    expect(problemsOf({ ...twilio, TWILIO_MESSAGING_SERVICE_SID: 'MG0123' })[0]).toMatch(/exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID/);
    expect(problemsOf({ ...twilio, TWILIO_FROM: '0612345678' })[0]).toMatch(/^TWILIO_FROM: must be an E.164 number/);
    expect(problemsOf({ ...twilio, TWILIO_ACCOUNT_SID: 'AC/../x' })[0]).toMatch(/^TWILIO_ACCOUNT_SID: must be letters/);
    const production = problemsOf({ ...twilio, NODE_ENV: 'production', HOST: '0.0.0.0', TWILIO_BASE_URL: 'http://sms.internal' });
    expect(production).toEqual(['TWILIO_BASE_URL: must be https in production (example: TWILIO_BASE_URL=https://api.twilio.com)']);
    expect(JSON.stringify([production, problemsOf({ ...twilio, TWILIO_FROM: 'bad number!' })])).not.toContain('hunter2');
  });
});
