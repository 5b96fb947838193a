// The gateway: the daemon's HTTP port and its JSON-RPC API (DESIGN section 7).
export { createGateway } from './gateway.ts'
export type { Gateway, GatewayAddress, GatewayInit } from './gateway.ts'
export type { ApiBackend, BackendMethod, CallContext, ConnectionMethod } from './api-backend.ts'
export { DEFAULT_GATEWAY_LIMITS, WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from './constants.ts'
export type { GatewayLimits } from './constants.ts'
export type { HealthReport } from './http-routes.ts'
