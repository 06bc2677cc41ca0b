import {
  ATTR_MESSAGING_MESSAGE_ID,
  type BatonOptions,
  MessagingTelemetry,
  type PublishDescription,
  targetOf,
  viewOf,
} from '@baton/core';
import type { Span } from '@opentelemetry/api';
import { deprecatedProducerMethods, type StreamProducer } from './deprecated-producer.js';
import { SCOPE, SYSTEM, serverOf } from './describe.js';
import { text } from './replies.js';
import type { ProducerClient, ServerSource } from './types.js';
import { parseXadd, type XaddCall } from './xadd-arguments.js';

type Method = (...args: unknown[]) => unknown;
const ignore = () => {};

// The id Redis assigned, once the send succeeded (core calls it on the recording span).
// In a multi() the per-command reply is the status QUEUED, not the id.
function recordEntryId(span: Span, id: unknown): void {
  const value = Buffer.isBuffer(id) ? text(id) : id;
  if (typeof value === 'string' && value !== 'QUEUED') {
    span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, value);
  }
}

const isThenable = (value: unknown): value is Promise<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/** What every traced `XADD` of one {@link traceProducer} view shares. */
interface Tracing {
  readonly telemetry: MessagingTelemetry;
  readonly server: ReturnType<typeof serverOf>;
}

// The entry's fields: the application's payload (minus fields named like Baton's context
// fields), then the context fields, then anything a publish hook added to the headers.
function withContext(call: XaddCall, headers: Record<string, unknown>): unknown[] {
  const args = [...call.head, ...call.payload];
  for (const name of Object.keys(headers)) args.push(name, headers[name]);
  return args;
}

/**
 * One traced `XADD` on `target` (a client, a pipeline or a `multi()`): a `send <stream>`
 * span around the call, the context fields appended to a copy of the arguments. Returns
 * exactly what the client returns (a promise of the id, or the pipeline), except that a
 * client call without a callback returns a promise settled after the span ended. Its
 * result and errors are the client's, unchanged.
 */
function tracedXadd(
  tracing: Tracing,
  target: object,
  method: string,
  given: unknown[],
  queued: boolean,
): unknown {
  const fn = Reflect.get(target, method, target) as Method;
  const call = parseXadd(given);
  if (call === undefined) {
    tracing.telemetry.diagnostics.reportOnce(
      'xadd arguments',
      'an XADD whose arguments it cannot read is sent as is, untraced (a later one may be readable):',
      given.length,
    );
    return fn.apply(target, given);
  }
  const description: PublishDescription = {
    system: SYSTEM,
    destination: call.stream,
    headers: {},
    message: call.args,
    ...(call.explicitId !== undefined && { messageId: call.explicitId }),
    ...tracing.server,
    onSent: recordEntryId,
  };
  const { callback } = call;
  if (callback === undefined && !queued) {
    // A client call: the caller gets the traced promise, which rejects as the client's does.
    return tracing.telemetry.publish(description, (headers) =>
      fn.apply(target, withContext(call, headers)),
    );
  }
  // A pipeline or multi() command, or a call with a callback: the reply reaches the caller
  // through the client (exec(), the callback); Baton's own callback only ends the span.
  let result: unknown;
  const traced = tracing.telemetry.publish(description, (headers) => {
    let settle: (reply: unknown[]) => void = ignore;
    const replied = new Promise((resolve, reject) => {
      settle = ([error, id]) => (error ? reject(error) : resolve(id));
    });
    const onReply = (...reply: unknown[]) => {
      settle(reply);
      return callback?.(...reply);
    };
    result = fn.apply(target, [...withContext(call, headers), onReply]);
    return replied;
  });
  // The error reaches the caller through the client; this promise only ends the span.
  (traced as Promise<unknown>).catch(ignore);
  return result;
}

/**
 * A view of a pipeline or `multi()` whose `xadd` is traced. ioredis's `pipeline(commands)`
 * replays the commands on the pipeline; the view replays them on itself, so an `xadd`
 * among them is traced too.
 */
function tracedPipeline(tracing: Tracing, pipeline: unknown, commands: unknown): unknown {
  if (pipeline === null || typeof pipeline !== 'object' || isThenable(pipeline)) return pipeline;
  const view = viewOf(pipeline, {
    xadd: (...args) => tracedXadd(tracing, pipeline, 'xadd', args, true),
    xaddBuffer: (...args) => tracedXadd(tracing, pipeline, 'xaddBuffer', args, true),
  });
  if (Array.isArray(commands)) {
    for (const command of commands as unknown[][]) {
      const [name, ...args] = command;
      (Reflect.get(view, name as string) as Method)(...args);
    }
  }
  return view;
}

/**
 * Returns a view of an ioredis client (`Redis` or `Cluster`, ioredis 5 or 6) in which every
 * `xadd` (and `xaddBuffer`), on the client and on its `pipeline()` and `multi()`, is an
 * `XADD` inside a `send <stream>` PRODUCER span, with `traceparent`, `tracestate`,
 * `baggage` and `x-correlation-id` appended as entry fields to a copy of the arguments.
 * Everything else is the client's own. The client object is never modified, and your
 * field arguments are sent as you gave them (a field named like a context field is
 * replaced by Baton's). The result and errors of each call are the client's.
 *
 * @example
 * const redis = traceProducer(new Redis());
 * await redis.xadd('orders', 'MAXLEN', '~', 100_000, '*', 'orderId', '42');
 */
export function traceProducer<C extends ProducerClient>(
  client: C,
  options?: BatonOptions,
): C & StreamProducer {
  const target = targetOf(client);
  const tracing: Tracing = {
    telemetry: new MessagingTelemetry(SCOPE, options),
    server: serverOf(target as ServerSource),
  };
  const raw = target as unknown as Record<string, Method>;
  const xadd: Method = (...args) => tracedXadd(tracing, target, 'xadd', args, false);
  return viewOf(target, {
    xadd,
    xaddBuffer: (...args) => tracedXadd(tracing, target, 'xaddBuffer', args, false),
    pipeline: (...args) => tracedPipeline(tracing, raw.pipeline?.call(target), args[0]),
    multi: (...args) => {
      const [first, second] = args;
      const commands = Array.isArray(first) ? first : undefined;
      const multiOptions = commands ? second : first;
      // multi({ pipeline: false }) sends MULTI: the client's own xadd calls then queue.
      if ((multiOptions as { pipeline?: unknown } | undefined)?.pipeline === false) {
        return raw.multi?.apply(target, args);
      }
      return tracedPipeline(tracing, raw.multi?.call(target, multiOptions), commands);
    },
    ...deprecatedProducerMethods(tracing.telemetry, xadd, (pipeline, args) =>
      tracedXadd(tracing, pipeline, 'xadd', args, true),
    ),
  }) as C & StreamProducer;
}
