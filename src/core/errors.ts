/**
 * Errors and warnings.
 *
 * `InputError` is the user's problem (bad file, bad option): the CLI prints its message on
 * one line and exits with status 2. Anything else that escapes is an internal error
 * (status 1). Messages name the file, row, column or option and say what to do.
 */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Thrown when an AbortSignal passed to a long computation fires. */
export class AbortError extends Error {
  override readonly name = "AbortError";
  constructor(message = "the operation was aborted") {
    super(message);
  }
}

export type WarningSink = (message: string) => void;

/** Collects warnings so that results can carry them and shells can print them. */
export class Warnings {
  readonly messages: string[] = [];
  constructor(private readonly sink?: WarningSink) {}
  warn(message: string): void {
    this.messages.push(message);
    this.sink?.(message);
  }
}
