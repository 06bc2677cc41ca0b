import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context, ROOT_CONTEXT } from '@opentelemetry/api';

// Without an OpenTelemetry SDK, @opentelemetry/api has a no-op context manager: context.with()
// runs the callback but context.active() stays ROOT_CONTEXT. Baton promises that context and
// correlation ids still flow with no SDK, so it keeps its own scope beside the API's. When an
// SDK is registered both agree, and the API's active context wins.
const fallback = new AsyncLocalStorage<Context>();

/** The context Baton treats as active: the API's, or Baton's own scope when no SDK is set. */
export function activeContext(): Context {
  const active = context.active();
  if (active !== ROOT_CONTEXT) return active;
  return fallback.getStore() ?? ROOT_CONTEXT;
}

/** Runs `fn` with `ctx` active, for OpenTelemetry and for Baton's no-SDK fallback alike. */
export function runWithContext<A extends unknown[], R>(
  ctx: Context,
  fn: (...args: A) => R,
  ...args: A
): R {
  return fallback.run(ctx, () => context.with(ctx, fn, undefined, ...args));
}
