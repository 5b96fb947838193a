// Lint: TypeScript rules plus the two structural rules of DESIGN section 2 and STYLE.md:
// the dependency rule between areas, and the purity of the consensus core and state machine.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Import patterns an area may not use, keyed by area. */
const forbidden = {
  protocol: ['**/ledger/**', '**/node/**', '**/pwa/**', '**/scripts/**', '**/test/**', 'node:*'],
  ledger: ['**/node/**', '**/pwa/**', '**/scripts/**', '**/test/**'],
  node: ['**/pwa/**', '**/scripts/**', '**/test/**'],
  pwa: ['**/ledger/**', '**/node/**', '**/scripts/**', '**/test/**', 'node:*'],
}

const areaRules = Object.entries(forbidden).map(([area, group]) => ({
  files: [`${area}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [{ group, message: `${area} may not import this (DESIGN section 2).` }] },
    ],
  },
}))

const pureMessage = 'The consensus core and state machine are pure: time and randomness come in.'

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  ...areaRules,
  {
    files: ['ledger/raft/**/*.ts', 'ledger/state/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'classic-level',
                'memory-level',
                '**/storage/**',
                '**/node/**',
                '**/pwa/**',
              ],
              message: pureMessage,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: pureMessage },
        { name: 'setInterval', message: pureMessage },
        { name: 'setImmediate', message: pureMessage },
        { name: 'performance', message: pureMessage },
        { name: 'process', message: pureMessage },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: pureMessage },
        { object: 'Math', property: 'random', message: pureMessage },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'FunctionDeclaration[async=true]', message: pureMessage },
        { selector: 'ArrowFunctionExpression[async=true]', message: pureMessage },
        { selector: 'FunctionExpression[async=true]', message: pureMessage },
        { selector: 'NewExpression[callee.name="Date"]', message: pureMessage },
      ],
    },
  },
)
