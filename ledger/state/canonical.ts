// Canonical JSON: one encoding per value whatever order its objects' keys were written in, so
// comparing two requests never depends on how a client happened to build them.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** JSON with every object's keys sorted (by UTF-16 code units, as `Array.sort` does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (!isPlainObject(item)) return item
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(item).sort()) sorted[key] = item[key]
    return sorted
  })
}
