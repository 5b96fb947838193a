// Lint: TypeScript rules plus the two structural rules of DESIGN section 2 and STYLE.md:
// the dependency rule between areas, crossing an area only through its index.ts, and the
// purity of the consensus core and state machine.
import js from '@eslint/js'
import { dirname, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import tseslint from 'typescript-eslint'

/** Import patterns an area may not use, keyed by area. */
const forbidden = {
  protocol: ['**/ledger/**', '**/node/**', '**/pwa/**', '**/scripts/**', '**/test/**', 'node:*'],
  ledger: ['**/node/**', '**/pwa/**', '**/scripts/**', '**/test/**'],
  node: ['**/pwa/**', '**/scripts/**', '**/test/**'],
  pwa: ['**/ledger/**', '**/node/**', '**/scripts/**', '**/test/**', 'node:*'],
}

const areaMessage = (area) => `${area} may not import this (DESIGN section 2).`

const areaRules = Object.entries(forbidden).map(([area, group]) => ({
  files: [`${area}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group, message: areaMessage(area) }] }],
  },
}))

// The web app's build config runs in Node and is never bundled: it may use node:* (to write the
// precompressed copies), but not the other areas.
areaRules.push({
  files: ['pwa/vite.config.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: forbidden.pwa.filter((p) => p !== 'node:*'), message: areaMessage('pwa') },
        ],
      },
    ],
  },
})

/**
 * The area a repository path belongs to: protocol, ledger and pwa are one area each, and each
 * folder of node/ is one. Other paths (test/, scripts/, node/main.ts) belong to none.
 */
function areaOf(path) {
  const parts = path.split('/')
  if (['protocol', 'ledger', 'pwa'].includes(parts[0])) return parts[0]
  if (parts[0] === 'node' && parts.length > 2) return `node/${parts[1]}`
  return undefined
}

/** The repository's root, where this file lives, whatever directory ESLint runs from. */
const root = dirname(fileURLToPath(import.meta.url))

/** Reports a relative import that enters another area anywhere but at its index.ts. */
const areaIndexRule = {
  meta: {
    type: 'problem',
    messages: { deep: 'Cross into {{area}} only through {{area}}/index.ts (DESIGN section 2).' },
    schema: [],
  },
  create(context) {
    const toRepo = (absolute) => relative(root, absolute).split(sep).join('/')
    const from = toRepo(context.filename)
    if (from.startsWith('test/')) return {}
    const fromArea = areaOf(from)
    const check = (source) => {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return
      if (!source.value.startsWith('.')) return
      const target = toRepo(resolve(dirname(context.filename), source.value))
      const area = areaOf(target)
      if (area === undefined || area === fromArea || target === `${area}/index.ts`) return
      context.report({ node: source, messageId: 'deep', data: { area } })
    }
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    }
  },
}

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
    plugins: { gridx: { rules: { 'area-index': areaIndexRule } } },
    files: ['**/*.ts'],
    rules: { 'gridx/area-index': 'error' },
  },
  {
    files: ['ledger/raft/**/*.ts', 'ledger/state/**/*.ts'],
    rules: {
      // This option replaces the ledger area's, so it repeats the area's patterns.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: forbidden.ledger, message: areaMessage('ledger') },
            {
              group: ['node:*', 'classic-level', 'memory-level', '**/storage/**'],
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
