import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type LyceumApp } from '../src/app.js';
import { loadConfig } from '../src/core/config/config.js';
import { loggerOptions } from '../src/core/observability/logger.js';
import { createWidgetsModule } from './support/widgets/widgets.module.js';

describe('logs', () => {
  let lyceum: LyceumApp;
  const lines: string[] = [];
  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-logs-'));
    const config = loadConfig({ cwd: dataDir, env: { DATA_DIR: dataDir, DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'info' } });
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    lyceum = await buildApp({ config, extraModules: [createWidgetsModule], logger: { ...(loggerOptions("info") as object), stream } });
  });
  afterAll(() => lyceum.close());

  it('never contain credentials, cookies, secrets in bodies or query strings', async () => {
    const secretToken = 'Bearer test:usr_sneaky';
    await lyceum.app.inject({
      method: 'POST',
      url: '/api/v1/widgets?token=query-secret-123',
      headers: { authorization: secretToken, cookie: 'lyceum_refresh=cookie-secret-456' },
      payload: { name: 'x', size: 1 },
    });
    await lyceum.app.inject({ method: 'GET', url: '/api/v1/widgets-boom', headers: { authorization: secretToken } });
    const all = lines.join('');
    expect(all).toContain('"reqId"');
    expect(all).toContain('/api/v1/widgets');
    for (const secret of ['usr_sneaky', 'query-secret-123', 'cookie-secret-456']) expect(all).not.toContain(secret);
  });

  it('writes one line per request, when it completes: method, path, IP, status and time', async () => {
    const res = await lyceum.app.inject({ method: 'GET', url: '/health/live?token=query-secret-789' });
    const mine = lines.map((l) => JSON.parse(l)).filter((l) => l.reqId === res.headers['x-request-id']);
    expect(mine).toEqual([
      expect.objectContaining({ level: 30, msg: 'request completed', req: expect.objectContaining({ method: 'GET', path: '/health/live', ip: '127.0.0.1' }), res: { statusCode: 200 }, responseTime: expect.any(Number) }),
    ]);
    expect(lines.join('')).not.toContain('query-secret-789');
  });

  it('logs a 500 with its stack and request id', () => {
    const failure = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed');
    expect(failure).toMatchObject({ level: 50, reqId: expect.stringMatching(/^req_/), err: { message: 'secret internal detail' } });
  });
});
