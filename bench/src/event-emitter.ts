import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createEventBus } from '@baton/event-emitter';
import { type Context, context, SpanKind, trace } from '@opentelemetry/api';
import type { Scenario, Variant } from './measure.js';
import { linkTo } from './reference.js';
import { handlerWork } from './work.js';

// Every variant delivers asynchronously (setImmediate per delivery), as Baton's bus does, so
// the difference measured is Baton's telemetry and context work, not the scheduling.
const DESTINATION = 'user.registered';
const SEND_ATTRIBUTES = {
  'messaging.system': 'in_process',
  'messaging.operation.name': 'send',
  'messaging.operation.type': 'send',
  'messaging.destination.name': DESTINATION,
};
const PROCESS_ATTRIBUTES = {
  'messaging.system': 'in_process',
  'messaging.operation.name': 'process',
  'messaging.operation.type': 'process',
  'messaging.destination.name': DESTINATION,
  'messaging.consumer.group.name': 'bench',
};
const CORRELATION_ID = 'baton.correlation_id';

// Messages in flight at once: a steady flow, as a service sees it, rather than one burst of
// tens of thousands of queued deliveries (which measures the garbage collector instead).
const WINDOW = 256;

function waiter(n: number) {
  let received = 0;
  let resolve: () => void = () => {};
  let windowTarget = 0;
  let windowResolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    done,
    /** Resolves when every message published before `sent + WINDOW` arrived. */
    window(sent: number): Promise<void> {
      windowTarget = Math.min(n, sent + WINDOW);
      return new Promise<void>((r) => {
        windowResolve = r;
      });
    },
    onMessage(payload: { i: number }) {
      if (payload.i < 0) throw new Error('unreachable');
      handlerWork();
      received++;
      if (received === windowTarget) windowResolve();
      if (received === n) resolve();
    },
  };
}

/** The in-process bus: bare EventEmitter vs Baton's EventBus. */
export async function scenario(): Promise<Scenario> {
  return {
    name: 'in-process bus (EventEmitter vs @baton/event-emitter), publish + async handle, 256 in flight',
    plan: { messages: 50_000, warmupMessages: 150_000, rounds: 5 },
    async bare(): Promise<Variant> {
      const emitter = new EventEmitter();
      return {
        async run(n) {
          const w = waiter(n);
          emitter.on(DESTINATION, w.onMessage);
          for (let sent = 0; sent < n; ) {
            const window = w.window(sent);
            for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) {
              const payload = { i: sent };
              setImmediate(() => emitter.emit(DESTINATION, payload));
            }
            await window;
          }
          await w.done;
          emitter.removeAllListeners();
        },
        teardown: async () => {},
      };
    },
    async handWritten(options): Promise<Variant> {
      // What a team writes without Baton for the same telemetry: a send span and a process
      // span (its child) with the same semconv attributes, a correlation id per message as
      // the conversation id, the handler inside the process span's context. In process, the
      // context travels as an object with the payload (as Baton's bus carries it).
      const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('by-hand');
      const emitter = new EventEmitter();
      return {
        async run(n) {
          const w = waiter(n);
          emitter.on(
            DESTINATION,
            (payload: { i: number }, parent: Context, correlationId: string) => {
              const span = tracer.startSpan(
                `process ${DESTINATION}`,
                { kind: SpanKind.CONSUMER, attributes: PROCESS_ATTRIBUTES, links: linkTo(parent) },
                parent,
              );
              span.setAttribute(CORRELATION_ID, correlationId);
              try {
                context.with(trace.setSpan(parent, span), () => w.onMessage(payload));
              } finally {
                span.end();
              }
            },
          );
          for (let sent = 0; sent < n; ) {
            const window = w.window(sent);
            for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) {
              const correlationId = randomUUID();
              const span = tracer.startSpan(`send ${DESTINATION}`, {
                kind: SpanKind.PRODUCER,
                attributes: SEND_ATTRIBUTES,
              });
              span.setAttribute(CORRELATION_ID, correlationId);
              const ctx = trace.setSpan(context.active(), span);
              const payload = { i: sent };
              setImmediate(() => emitter.emit(DESTINATION, payload, ctx, correlationId));
              span.end();
            }
            await window;
          }
          await w.done;
          emitter.removeAllListeners();
        },
        teardown: async () => {},
      };
    },
    async baton(options): Promise<Variant> {
      const bus = createEventBus<{ 'user.registered': { i: number } }>(options);
      return {
        async run(n) {
          const w = waiter(n);
          const unsubscribe = bus.subscribe(DESTINATION, w.onMessage, { consumerGroup: 'bench' });
          for (let sent = 0; sent < n; ) {
            const window = w.window(sent);
            for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) {
              bus.publish(DESTINATION, { i: sent });
            }
            await window;
          }
          await w.done;
          unsubscribe();
        },
        teardown: () => bus.idle(),
      };
    },
  };
}
