import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from './semconv.js';

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

// Runs `fn` and calls `finish` exactly once when it settles (sync or async). The result or
// error of `fn` passes through unchanged; `finish` never throws (it is guarded by callers).
// A success passes the result (or the value the promise resolved to) as `value`.
export function settleWith<R>(
  fn: () => R,
  finish: (error: unknown, failed: boolean, value?: unknown) => void,
): R {
  let result: R;
  try {
    result = fn();
  } catch (error) {
    finish(error, true);
    throw error;
  }
  if (isPromiseLike(result)) {
    return (result as PromiseLike<unknown>).then(
      (value) => {
        finish(undefined, false, value);
        return value;
      },
      (error: unknown) => {
        finish(error, true);
        throw error;
      },
    ) as R;
  }
  finish(undefined, false, result);
  return result;
}

/** Ends `span`; a failure sets ERROR status, the exception event and `error.type`. */
export function endSpan(
  span: Span,
  error: unknown,
  failed: boolean,
  types: { errorType(error: unknown): string },
): void {
  if (failed) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    span.setAttribute(ATTR_ERROR_TYPE, types.errorType(error));
  }
  span.end();
}

export const EMPTY_HEADERS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
