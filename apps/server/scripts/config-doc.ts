/**
 * Prints the option table of docs/configuration.md from the one table the server reads
 * (src/core/config/options.ts): `npm run docs:config -w @lyceum/server > table.md`.
 */
import { options } from '../src/core/config/options.js';

const escape = (text: string) => text.replace(/\|/g, '\\|');
const rows = Object.values(options).map(
  (o) => `| \`${o.name}\` | ${o.default === undefined ? '_unset_' : `\`${o.default}\``} | ${escape(o.description)} | \`${escape(o.example)}\` |`,
);
process.stdout.write(['| name | default | what it does | example |', '|---|---|---|---|', ...rows, ''].join('\n'));
