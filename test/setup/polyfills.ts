// Tests load the same polyfills as the daemon entry point.
import '../../node/polyfills.ts'
