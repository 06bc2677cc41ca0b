import { type BatonOptions, MessagingTelemetry, runInMessageContext } from '@baton/core';
import {
  context,
  type MeterProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { ConformanceHarness } from '../src/conformance.js';

/** Deliberate breakages of the reference adapter: each must turn a conformance case red. */
export type Breakage =
  | 'none'
  | 'hooks' // never calls the user's hooks
  | 'inject' // sends the caller's headers instead of the injected copy
  | 'link' // drops the links of every span it starts
  | 'error-type' // metric points lose error.type
  | 'lose' // drops one message in fifty
  | 'attribute'; // puts an undocumented attribute on its spans

interface Queued {
  body: string;
  headers: Record<string, unknown>;
  publishedAt: number;
}

function withoutLinks(provider: TracerProvider): TracerProvider {
  return {
    getTracer(name, version, options) {
      const tracer = provider.getTracer(name, version, options);
      const wrapped: Tracer = {
        startSpan: (spanName: string, spanOptions?: SpanOptions, ctx?) =>
          tracer.startSpan(spanName, { ...spanOptions, links: [] }, ctx),
        startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
      };
      return wrapped;
    },
  };
}

function withoutErrorType(provider: MeterProvider): MeterProvider {
  const strip = (attributes?: Record<string, unknown>) => {
    const { 'error.type': _dropped, ...rest } = attributes ?? {};
    return rest as never;
  };
  return {
    getMeter(name, version, options) {
      const meter = provider.getMeter(name, version, options);
      return new Proxy(meter, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (key !== 'createHistogram' && key !== 'createCounter') return value;
          return (...args: unknown[]) => {
            const instrument = (
              value as (...a: unknown[]) => Record<string, (...a: unknown[]) => void>
            ).apply(target, args);
            return {
              ...instrument,
              record: (v: number, attributes?: Record<string, unknown>, ctx?: unknown) =>
                instrument.record?.call(instrument, v, strip(attributes), ctx),
              add: (v: number, attributes?: Record<string, unknown>, ctx?: unknown) =>
                instrument.add?.call(instrument, v, strip(attributes), ctx),
            };
          };
        },
      });
    },
  };
}

/**
 * A minimal in-memory bus built on @baton/core the way an adapter should be, used only to
 * prove the conformance suite fails when an adapter breaks a promise.
 */
export function createReferenceHarness(
  options: BatonOptions,
  breakage: Breakage,
  delivery: 'message' | 'batch' = 'message',
): ConformanceHarness {
  const given: BatonOptions = { ...options };
  if (breakage === 'hooks') {
    delete given.publishHook;
    delete given.consumeHook;
  }
  if (breakage === 'link' && given.tracerProvider)
    given.tracerProvider = withoutLinks(given.tracerProvider);
  if (breakage === 'error-type' && given.meterProvider) {
    given.meterProvider = withoutErrorType(given.meterProvider);
  }
  const telemetry = new MessagingTelemetry({ name: '@baton/reference', version: '0.0.0' }, given);
  const queue: Queued[] = [];
  let handler: ((body: string) => void | Promise<void>) | undefined;
  let sent = 0;
  let draining = Promise.resolve();
  const extra = breakage === 'attribute' ? { 'messaging.reference.secret': 'x' } : undefined;
  const describe = (message: Queued) => ({
    system: 'in_process',
    destination: 'reference',
    headers: message.headers,
    message,
    timestampMs: message.publishedAt,
    ...(extra && { attributes: extra }),
  });

  const drain = async () => {
    while (queue.length > 0 && handler) {
      const batch = queue.splice(0, delivery === 'batch' ? 10 : 1);
      const run = handler;
      if (delivery === 'batch') {
        await telemetry
          .processBatch(
            { system: 'in_process', destination: 'reference', message: batch },
            batch.map(describe),
            () =>
              Promise.all(
                batch.map((message) => runInMessageContext(message, () => run(message.body))),
              ),
          )
          .catch(() => undefined);
      } else {
        const [message] = batch as [Queued];
        await telemetry
          .process(describe(message), async () => run(message.body))
          .catch(() => undefined);
      }
    }
  };
  const enqueue = (message: Queued) => {
    sent++;
    if (breakage === 'lose' && sent % 50 === 0) return;
    queue.push(message);
    // Like a broker's consumer loop, deliveries do not run in the publisher's context.
    context.with(ROOT_CONTEXT, () => {
      draining = draining.then(drain);
    });
  };

  return {
    async publish(body) {
      const message = { body };
      telemetry.publish(
        {
          system: 'in_process',
          destination: 'reference',
          headers: {},
          message,
          ...(extra && { attributes: extra }),
        },
        (headers) =>
          enqueue({ body, headers: breakage === 'inject' ? {} : headers, publishedAt: Date.now() }),
      );
    },
    async publishRaw(body, headers) {
      enqueue({ body, headers, publishedAt: Date.now() });
    },
    async publishRepeated(body, headers) {
      enqueue({ body, headers: { ...headers }, publishedAt: Date.now() });
    },
    async startConsumer(next) {
      handler = next;
      draining = draining.then(drain);
    },
    async close() {
      await draining;
      handler = undefined;
    },
  };
}

export type { Span };
