/**
 * The house rules on imports (ARCHITECTURE.md, rules 1–2), checked on every `npm run lint`:
 * core never imports a module or the app; modules never import each other in a cycle nor reach
 * into another module's internals (only its index.ts).
 */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-module',
      comment: 'core/ knows nothing of any module.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/(modules|flows)/|^src/app\\.ts$|^src/main\\.ts$' },
    },
    {
      name: 'no-cycles',
      comment: 'Imports flow one way.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'modules-use-each-other-through-index-only',
      comment: 'Another module is used through its index.ts, never its repo, tables or service file.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/(?!index\\.ts$)', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'no-test-code-in-src-runtime',
      comment: 'Runtime code never imports tests or test support.',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: 'node_modules' },
  },
};
