import path from 'node:path';
import { buildApp, type LyceumApp, type ModuleFactory } from './app.js';
import type { Config } from './core/config/config.js';
import { CREATE_ADMIN_COMMAND } from './modules/identity/index.js';

/**
 * Runs the server until SIGTERM/SIGINT: listens, prints where everything is, and on a signal
 * drains in-flight requests and jobs before exiting.
 */
export async function serve(config: Config, extraModules: ModuleFactory[] = []): Promise<LyceumApp> {
  const lyceum = await buildApp({ config, extraModules });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    lyceum.app.log.info({ signal }, 'shutting down: finishing in-flight requests and jobs');
    // A hard deadline, so that a stuck request cannot keep the process from exiting.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5000).unref();
    lyceum.close().then(
      () => process.exit(0),
      (err: unknown) => {
        lyceum.app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await lyceum.listen();
  const address = lyceum.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const where = config.database.kind === 'sqlite' ? `embedded: SQLite at ${path.relative(process.cwd(), config.database.file) || config.database.file}` : 'cluster: PostgreSQL';
  const next = [`  Create the first admin:  ${CREATE_ADMIN_COMMAND}`, '  Load demo data:          npm run lyceum -- seed --demo'];
  process.stdout.write(
    [
      '',
      `Lyceum is running (${where})`,
      `  API:        ${base}/api/v1`,
      `  Reference:  ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
      `  Health:     ${base}/health/ready`,
      'Next steps:',
      ...next,
      '',
    ].join('\n') + '\n',
  );
  return lyceum;
}
