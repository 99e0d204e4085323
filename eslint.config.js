import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/testdata/**', 'bench/.work/**'] },
  js.configs.recommended,
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
