/**
 * Errors the RPC answers with. Every failure is `{ "error": message }` with a status code: 400 for
 * a request that cannot be understood (the message says what is wrong and what is expected), 404
 * for something that does not exist, 409 for a request the node's state refuses.
 */
export class RpcError extends Error {
  override readonly name: string = 'RpcError'
  readonly statusCode: number
  constructor (statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.statusCode = statusCode
  }
}

export class BadRequestError extends RpcError {
  override readonly name = 'BadRequestError'
  constructor (message: string, options?: { cause?: unknown }) { super(400, message, options) }
}

export class NotFoundError extends RpcError {
  override readonly name = 'NotFoundError'
  constructor (message: string) { super(404, message) }
}

export class ConflictError extends RpcError {
  override readonly name = 'ConflictError'
  constructor (message: string, options?: { cause?: unknown }) { super(409, message, options) }
}

/** The node runs without the part this RPC needs (e.g. no chain when embedded without a protocol). */
export class UnavailableError extends RpcError {
  override readonly name = 'UnavailableError'
  constructor (message: string) { super(503, message) }
}

/** The JSON body of every error answer. */
export interface RpcErrorBody {
  error: string
}
