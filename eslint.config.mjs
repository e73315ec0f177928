// @ts-check
// Lint rules for the whole repository: typescript-eslint with type information (src, bench, test and the
// dashboard's own tsconfig, found per file by the project service), plus RxJS rules. Formatting is Prettier's job.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import rxjsX from 'eslint-plugin-rxjs-x';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'test-output/', 'universe/', 'coverage/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked, rxjsX.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection; an async callback where a void one is expected does too.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A subscription nobody keeps can never be torn down; an observable nobody subscribes to does nothing.
      'rxjs-x/no-ignored-subscription': 'error',
      'rxjs-x/no-floating-observables': 'error',
      // Unused names are tsc's job (noUnusedLocals/noUnusedParameters), which also honours `_` prefixes.
      '@typescript-eslint/no-unused-vars': 'off',
      // The code indexes arrays with `!` as if noUncheckedIndexedAccess were on (the dashboard's tsconfig has it; the
      // root one does not yet, for src/simulator's sake): those assertions are the intent, not noise.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `let x; … () => x …; x = make(…)`: a closure made before the value exists reads it later.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // These patterns exist to find the control characters HAProxy's config parser refuses.
    files: ['src/model/haproxyText.ts', 'src/model/templateLabels.ts', 'src/render/format.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Jest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`; reading an `any` is still an error.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // Fakes of Promise-returning ports answer at once.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Inside TestScheduler.run, flush() drives every subscription made there; nothing outlives the test.
    files: ['test/marbles/**/*.ts'],
    rules: { 'rxjs-x/no-ignored-subscription': 'off' },
  },
  {
    // Plain config files (jest's, its reporter, this one) are outside every tsconfig.
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', console: 'readonly', process: 'readonly' },
    },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
);
