import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.sqlite3', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Type information for the rules that need it; tsconfig.json covers lib, test, examples, bench.
        projectService: { allowDefaultProject: ['tsup.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        URL: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly',
        setImmediate: 'readonly', TextEncoder: 'readonly', fetch: 'readonly', document: 'readonly',
        window: 'readonly', FormData: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // A switch over a union names every member, so a new state, action or lawful basis
      // cannot fall silently into a default branch.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
    },
  },
  {
    // Tests (and the conformance suite shipped in lib/testing) assert a value exists, then use it.
    files: ['test/**', 'bench/**', 'lib/testing/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      // supertest types every response body as \`any\` (as does JSON.parse): the unsafe-any family
      // would flag each assertion on a body. The library, bench and examples keep these rules.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Stand-ins for hooks, stores and cleanups are async without awaiting, so that a throw
      // becomes a rejection as it would in the real ones.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The conformance suite checks a foreign tracker, whose answers need not match their types:
    // a missing row must fail an assertion, not throw a TypeError.
    files: ['lib/testing/**'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
  {
    // Calls the tracker's optional outbox methods, checked once when the poller starts.
    files: ['lib/core/outbox-poller.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Its methods are async without awaiting anything so that they reject, as a store's would,
    // instead of throwing at the call.
    files: ['lib/tracker/memory-tracker.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
);
