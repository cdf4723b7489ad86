/*
 * Error answers of the Cosmos SDK REST gateway: grpc-gateway v1's
 * `DefaultHTTPProtoErrorHandler` writes the marshalled `google.rpc.Status` `{code, message, details}` with the
 * HTTP status `HTTPStatusFromCode(code)`.
 */

/** The gRPC status codes the simulator answers with. */
export const GrpcCode = {
  Unknown: 2,
  InvalidArgument: 3,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
} as const

/** grpc-gateway v1 `runtime.HTTPStatusFromCode` for the codes above. */
export function httpStatusFromCode(code: number): number {
  switch (code) {
    case GrpcCode.InvalidArgument:
      return 400
    case GrpcCode.Unimplemented:
      return 501
    case GrpcCode.Unavailable:
      return 503
    default:
      return 500
  }
}

/** An error the gateway would render as a `google.rpc.Status` body. */
export class GatewayError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
    this.name = 'GatewayError'
  }

  get httpStatus(): number {
    return httpStatusFromCode(this.code)
  }
}

/**
 * `sdkerrors.ErrKeyNotFound` returned bare by the pool and bundle queries: registered with `errorsmod.Register`,
 * so gRPC code Unknown, and `GRPCStatus()` formats "codespace %s code %d: %s" → HTTP 500, not 404.
 */
export function keyNotFound(): GatewayError {
  return new GatewayError(GrpcCode.Unknown, 'codespace sdk code 22: key not found')
}

/** A path parameter that `runtime.Uint64` rejected (`*.pb.gw.go`: "type mismatch, parameter: %s, error: %v"). */
export function typeMismatch(parameter: string, error: Error): GatewayError {
  return new GatewayError(
    GrpcCode.InvalidArgument,
    `type mismatch, parameter: ${parameter}, error: ${error.message}`,
  )
}

/** grpc-gateway v1 `ErrUnknownURI`: any path or method no handler matches. */
export function notImplemented(): GatewayError {
  return new GatewayError(GrpcCode.Unimplemented, 'Not Implemented')
}
