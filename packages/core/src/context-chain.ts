import { type Context, createContextKey, type Span } from '@opentelemetry/api';

// The API's own keys (`createContextKey` is `Symbol.for`-based, so these are the same
// symbols `trace.setSpan` and `propagation.setBaggage` use; a test checks it).
export const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');
export const BAGGAGE_KEY = createContextKey('OpenTelemetry Baggage Key');

// Past this many own links a context is folded back into its base with ordinary
// `setValue` calls, so a lookup never walks a long chain.
const MAX_DEPTH = 8;

/**
 * A context that holds one value on top of a parent context. OpenTelemetry's own context
 * copies its whole map on every `setValue`; a message's context is built with several
 * (a correlation id, a span, a remote span context, baggage), so Baton links them instead.
 * It is an ordinary `Context`: the API, SDKs and context managers see no difference.
 */
class LinkedContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
    readonly depth: number,
  ) {}

  getValue(key: symbol): unknown {
    // A short walk: at most MAX_DEPTH links, then the base context's map lookup.
    let ctx: Context = this;
    while (ctx instanceof LinkedContext) {
      if (ctx.key === key) return ctx.value;
      ctx = ctx.parent;
    }
    return ctx.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return withValue(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return withValue(this, key, undefined);
  }

  /** The base context with every linked value applied the usual way. */
  fold(): Context {
    const links: LinkedContext[] = [];
    let ctx: Context = this;
    while (ctx instanceof LinkedContext) {
      links.push(ctx);
      ctx = ctx.parent;
    }
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i] as LinkedContext;
      ctx =
        link.value === undefined ? ctx.deleteValue(link.key) : ctx.setValue(link.key, link.value);
    }
    return ctx;
  }
}

/** `ctx` with `key` set to `value` (`undefined` deletes it), without copying `ctx`. */
export function withValue(ctx: Context, key: symbol, value: unknown): Context {
  if (ctx instanceof LinkedContext) {
    const depth = ctx.depth + 1;
    if (depth > MAX_DEPTH) return ctx.fold().setValue(key, value);
    return new LinkedContext(ctx, key, value, depth);
  }
  return new LinkedContext(ctx, key, value, 1);
}

/** `ctx` with `span` as its active span (what `trace.setSpan` does, without a copy). */
export function withSpan(ctx: Context, span: Span): Context {
  return withValue(ctx, SPAN_KEY, span);
}
