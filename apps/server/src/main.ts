import path from 'node:path';
import { buildApp, type LyceumApp } from './app.js';
import { serve } from './serve.js';
import type { Clock } from './core/clock.js';
import { ConfigError, loadConfig, type Config } from './core/config/config.js';
import { StartupError } from './core/startup-error.js';
import { createDemoClock, describeDemoAccounts, seedDemo } from './flows/demo-seed.js';

const USAGE = `Usage: lyceum <command>

Commands:
  serve                     start the server (default)
  migrate up|down|status    apply, revert the latest, or list migrations
  backup <file>             SQLite: write an online backup to <file>; PostgreSQL: print the pg_dump recipe
  create-admin              create the first administrator
  seed --demo [--force]     load demo data (refused with NODE_ENV=production unless --force)
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...args] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await serve(config);
      return -1; // keep running until a signal
    case 'migrate':
      return migrate(config, args[0] ?? 'status');
    case 'backup':
      return backup(config, args[0]);
    case 'seed':
      return seed(config, args);
    case 'create-admin':
      return withApp(config, async (lyceum) => {
        const hook = lyceum.modules.map((m) => m.cli?.[command]).find(Boolean);
        if (!hook) {
          process.stderr.write(`No installed module provides "${command}" yet.\n`);
          return 1;
        }
        await hook(args);
        return 0;
      });
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

/**
 * For one-shot commands: the app without listening, background work, request logs or Redis (nothing
 * they do needs it, and a migration must be able to run while Redis is away).
 */
async function withApp(config: Config, fn: (lyceum: LyceumApp) => Promise<number>, migrateOnStart = true, clock?: Clock): Promise<number> {
  const lyceum = await buildApp({ config: { ...config, redis: undefined, migrateOnStart, jobs: { ...config.jobs, concurrency: 0 } }, clock, logger: { level: 'warn' } });
  try {
    return await fn(lyceum);
  } finally {
    await lyceum.close();
  }
}

/** `lyceum seed --demo [--force]`: the demo school (flows/demo-seed.ts); refused in production without --force. */
async function seed(config: Config, args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--demo' && a !== '--force');
  if (!args.includes('--demo') || unknown.length) {
    process.stderr.write('Usage: lyceum seed --demo [--force]\n  --demo   create the demo school (teachers, students, courses, activity)\n  --force  allow it when NODE_ENV=production\n');
    return 2;
  }
  if (config.env === 'production' && !args.includes('--force')) {
    process.stderr.write('Refusing to load demo data with NODE_ENV=production; add --force if you really mean it.\n');
    return 1;
  }
  const clock = createDemoClock();
  return withApp(
    config,
    async ({ product }) => {
      const result = await seedDemo({ ...product, clock }, { log: (line) => process.stderr.write(`  ${line}\n`) });
      process.stdout.write(describeDemoAccounts(result));
      return 0;
    },
    true,
    clock,
  );
}

async function migrate(config: Config, action: string): Promise<number> {
  return withApp(
    config,
    async ({ migrator }) => {
      if (action === 'up') {
        const applied = await migrator.up();
        process.stdout.write(applied.length ? `Applied:\n${applied.map((n) => `  ${n}`).join('\n')}\n` : 'Already up to date.\n');
      } else if (action === 'down') {
        const reverted = await migrator.down();
        process.stdout.write(reverted.length ? `Reverted ${reverted.join(', ')}\n` : 'Nothing to revert.\n');
      } else if (action === 'status') {
        for (const m of await migrator.status()) process.stdout.write(`${m.executedAt ? `applied ${m.executedAt}` : 'pending                          '}  ${m.name}\n`);
      } else {
        process.stderr.write(`Unknown migrate action "${action}" (up, down or status).\n`);
        return 2;
      }
      return 0;
    },
    false,
  );
}

async function backup(config: Config, destination: string | undefined): Promise<number> {
  if (config.database.kind === 'postgres') {
    process.stdout.write(
      [
        'Lyceum runs on PostgreSQL here; back it up with the standard tools, for example:',
        '  pg_dump --format=custom --file=lyceum-$(date +%F).dump "$DATABASE_URL"',
        'and restore with:',
        '  pg_restore --clean --if-exists --dbname="$DATABASE_URL" lyceum-YYYY-MM-DD.dump',
        'See docs/operations.md for continuous archiving (WAL) and point-in-time recovery.',
        '',
      ].join('\n'),
    );
    return 0;
  }
  if (!destination) {
    process.stderr.write('Usage: lyceum backup <file>\n');
    return 2;
  }
  return withApp(
    config,
    async ({ core }) => {
      const target = path.resolve(destination);
      await core.database.backup!(target);
      process.stdout.write(`Backup written to ${target}\n`);
      return 0;
    },
    false,
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    if (err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(69); // EX_UNAVAILABLE
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
