// Lint: typescript-eslint's recommended rules everywhere, plus the purity fence around the two
// deterministic cores. domain/ and src/raft/ may not import I/O, streams or generated wire code,
// nor read the clock, schedule timers or draw randomness: every run must be replayable from a seed.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureGlobals = [
  { name: 'Date', message: 'Pure core: time comes from the log entry or a tick, never the clock.' },
  { name: 'setTimeout', message: 'Pure core: drive time with tick().' },
  { name: 'setInterval', message: 'Pure core: drive time with tick().' },
  { name: 'setImmediate', message: 'Pure core: drive time with tick().' },
  { name: 'clearTimeout', message: 'Pure core: drive time with tick().' },
  { name: 'clearInterval', message: 'Pure core: drive time with tick().' },
  { name: 'queueMicrotask', message: 'Pure core: no scheduling.' },
  { name: 'performance', message: 'Pure core: no clock.' },
  { name: 'process', message: 'Pure core: no process access.' },
  { name: 'require', message: 'Pure core: no dynamic loading.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/gen/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly',
      setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['domain/**/*.ts', 'src/raft/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'Pure core: no Node.js I/O modules.' },
          { group: ['@grpc/*', 'rxjs', 'rxjs/*', 'pino', '**/gen/**', '**/src/node/**', '**/src/storage/**', '**/src/transport/**', '**/src/api/**'], message: 'Pure core: no I/O, streams or wire code.' },
          { group: ['fs', 'net', 'os', 'crypto', 'child_process', 'timers', 'perf_hooks', 'zlib', 'path'], message: 'Pure core: no Node.js I/O modules.' },
        ],
      }],
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Pure core: randomness comes from an injected seeded Rng.' },
        { object: 'Date', property: 'now', message: 'Pure core: time comes from the log entry.' },
      ],
    },
  },
);
