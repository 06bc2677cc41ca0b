import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context, ROOT_CONTEXT } from '@opentelemetry/api';

// Without an OpenTelemetry SDK, @opentelemetry/api has a no-op context manager: context.with()
// runs the callback but context.active() stays ROOT_CONTEXT. Baton promises that context and
// correlation ids still flow with no SDK, so it keeps its own AsyncLocalStorage scope for
// that case. When a context manager is registered, Baton uses it alone.
const fallback = new AsyncLocalStorage<Context>();

// The API keeps its globals under this well-known symbol (one per API major version); a
// registered context manager sits in `.context`. Reading it is one property lookup, cheap
// enough for every message, and notices an SDK registered after Baton was set up.
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const registry = globalThis as { [API_GLOBAL]?: { context?: unknown } };
const hasContextManager = () => registry[API_GLOBAL]?.context !== undefined;

/** The context Baton treats as active: the API's, or Baton's own scope when no SDK is set. */
export function activeContext(): Context {
  if (hasContextManager()) return context.active();
  return fallback.getStore() ?? ROOT_CONTEXT;
}

/** Runs `fn` with `ctx` active, for OpenTelemetry and for Baton's no-SDK fallback alike. */
export function runWithContext<A extends unknown[], R>(
  ctx: Context,
  fn: (...args: A) => R,
  ...args: A
): R {
  if (hasContextManager()) return context.with(ctx, fn, undefined, ...args);
  return fallback.run(ctx, fn, ...args);
}
