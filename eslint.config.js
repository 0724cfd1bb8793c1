import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules', '**/dist', 'data', 'test-results', 'playwright-report'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A variable read by callbacks before its one late assignment is not a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read JSON response bodies of many shapes; asserting on them is the type check.
    // The demo site shows the platform's JSON as it arrives, like a program's own code would.
    files: [
      '**/*.test.ts',
      '**/*.test.tsx',
      '**/testing/**',
      'e2e/**',
      'bench/**',
      'demo-server/demo-site/**',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
