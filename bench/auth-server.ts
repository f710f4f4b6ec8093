// Lyceum with its real identity module, as a user would run it, with limits raised so that the load
// measures the work (argon2, signatures, session checks) rather than the throttles.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../apps/server/src/app.js';
import { loadConfig } from '../apps/server/src/core/config/config.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-bench-auth-'));
const config = loadConfig({
  cwd: dataDir,
  env: {
    DATA_DIR: dataDir,
    PORT: '0',
    NODE_ENV: 'test', // no setup-token banner on the console
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '1000000',
    AUTH_RATE_LIMIT_MAX: '1000000',
    AUTH_IP_LOCK_THRESHOLD: '100000',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? '',
  },
});
const lyceum = await buildApp({ config, logger: false });
await lyceum.listen();
const email = 'bench@example.com';
const password = 'correct horse battery staple';
const identity = lyceum.modules.find((m) => m.name === 'identity') as unknown as { admin: { createAdmin(input: object): Promise<unknown> } };
await identity.admin.createAdmin({ email, password, displayName: 'Bench' });
// One session per load connection: refresh tokens rotate, so each connection follows its own chain.
const sessions = [];
for (let i = 0; i < Number(process.env.BENCH_CONNECTIONS ?? 50); i++) {
  const res = await lyceum.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  sessions.push({ accessToken: res.json().accessToken, refreshToken: res.json().refreshToken });
}
const address = lyceum.app.server.address();
process.send?.({ port: typeof address === 'object' && address ? address.port : 0, email, password, sessions });
