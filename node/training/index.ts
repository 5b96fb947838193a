export { cutToStop, dueRoundCloses, RoundCloser } from './round-closer.ts'
export type { RoundCloserInit } from './round-closer.ts'
