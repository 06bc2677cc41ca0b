import { type Context, type Link, trace } from '@opentelemetry/api';

/** A link to the span in `ctx` (the message's creation context), as a process span has. */
export function linkTo(ctx: Context): Link[] {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext ? [{ context: spanContext }] : [];
}
