import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/testdata/**', 'bench/.work/**', 'proto/gen/**'] },
  js.configs.recommended,
  {
    // plain JavaScript scripts (bench, build) run on Node: its globals
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'Buffer',
          'console',
          'URL',
          'URLSearchParams',
          'performance',
          'structuredClone',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'AbortController',
          'AbortSignal',
          'TextEncoder',
          'TextDecoder',
          'fetch',
          'queueMicrotask',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // engine must not import other workspace packages
    },
  },
  {
    files: ['cli/src/output/**', 'bench/**', 'test/**', '**/*.test.ts', '.ci/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['engine/src/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@vigil/*', '../../cli/*', '../../control-plane/*'] }],
    },
  },
);
