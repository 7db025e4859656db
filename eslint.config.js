import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**', 'test/**', 'bench/**', 'scripts/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Module boundaries: dependencies point inwards, and nothing imports the CLI.
    files: ['src/**'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/**', '**/cli'], message: 'nothing imports the CLI' }] },
      ],
    },
  },
  {
    files: ['src/pkgmgr/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/**', '**/cli'], message: 'nothing imports the CLI' },
            {
              group: [
                '**/registry/**',
                '**/registry',
                '**/image/**',
                '**/image',
                '**/patch/**',
                '**/patch',
              ],
              message: 'pkgmgr never imports registry, image or patch',
            },
          ],
        },
      ],
    },
  },
);
