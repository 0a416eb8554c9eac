/** A caller's mistake, answered with its status and `{ error: { message, field? } }` (and any `extra` fields beside `error`). */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, readonly field?: string, readonly extra?: Record<string, unknown>) {
    super(message);
  }
}
