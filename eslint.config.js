import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code must be deterministic and dsl/ pure: no Node built-ins, no I/O modules there.
const forbidden = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  'postgres',
  'drizzle-orm',
  'drizzle-orm/*',
  '@electric-sql/pglite',
  'express',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'test/.tmp/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly', fetch: 'readonly', setTimeout: 'readonly' },
    },
  },
  {
    // CommonJS preloads (node --require)
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // the console runs in the browser
    files: ['console/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'sessionStorage',
          'setInterval',
          'clearInterval',
          'URLSearchParams',
          'Blob',
          'addEventListener',
          'removeEventListener',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['workflows/**/*.ts', 'dsl/**/*.ts', 'conductor/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: forbidden.filter((m) => !m.includes('*')), patterns: forbidden.filter((m) => m.includes('*')) }],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch', 'require'],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Function']", message: 'no code generation from strings' },
        { selector: "CallExpression[callee.name='eval']", message: 'no eval' },
      ],
    },
  },
  {
    // the conductor and the contracts are pure: no I/O, no clock of their own (architecture.md); the
    // contracts may define Temporal signals and queries (plain objects), the conductor imports no Temporal at all
    files: ['conductor/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbidden.filter((m) => !m.includes('*')),
          patterns: [...forbidden.filter((m) => m.includes('*')), '../workflows/*', '../activities/*', '../api/*', '../workers/*', '../store/*'],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'the conductor takes its clock from the driver (options.now)' },
        { selector: "NewExpression[callee.name='Function']", message: 'no code generation from strings' },
        { selector: "CallExpression[callee.name='eval']", message: 'no eval' },
      ],
    },
  },
  {
    files: ['conductor/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbidden.filter((m) => !m.includes('*')),
          patterns: [
            ...forbidden.filter((m) => m.includes('*')),
            '@temporalio/*',
            '../workflows/*',
            '../activities/*',
            '../api/*',
            '../workers/*',
            '../store/*',
          ],
        },
      ],
    },
  },
  {
    // activities are called by workflows, never the other way round (architecture.md)
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../workflows/*', '../workers/*'] }] },
  },
  {
    // the workflow bundle must not pull ajv (it generates code); dsl modules that use it stay out of workflows/
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbidden.filter((m) => !m.includes('*')),
          patterns: [
            ...forbidden.filter((m) => m.includes('*')),
            '../dsl/index.js',
            '../dsl/validate.js',
            '../dsl/ajv.js',
            '../dsl/parameters.js',
            'ajv',
            'ajv/*',
          ],
        },
      ],
    },
  },
);
