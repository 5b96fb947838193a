/** Wall time in milliseconds since the epoch. The consumer (the ledger) owns this interface;
 * the daemon passes the system clock and tests pass a clock they drive. */
export interface Clock {
  now(): number
}
