// The app's Content-Security-Policy has no 'unsafe-eval'. zod compiles faster parsers with
// `new Function` when it may, and its probe for that is refused by the policy and reported as
// a violation on every load: the app parses without generated code. Imported first by main.ts,
// before any schema parses.
import { z } from 'zod'

z.config({ jitless: true })
