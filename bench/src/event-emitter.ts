import { EventEmitter } from 'node:events';
import { createEventBus } from '@baton/event-emitter';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { Scenario, Variant } from './measure.js';

// Both variants deliver asynchronously (setImmediate per delivery), as Baton's bus does, so
// the difference measured is Baton's telemetry and context work, not the scheduling.
const SEND_ATTRIBUTES = {
  'messaging.system': 'in_process',
  'messaging.operation.name': 'send',
  'messaging.operation.type': 'send',
  'messaging.destination.name': 'user.registered',
};
const processAttributes = (headers: Record<string, string>) => ({
  'messaging.system': 'in_process',
  'messaging.operation.name': 'process',
  'messaging.operation.type': 'process',
  'messaging.destination.name': 'user.registered',
  'messaging.consumer.group.name': 'bench',
  'messaging.message.conversation_id': headers['x-correlation-id'] ?? '',
});

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
    messages: 20_000,
    rounds: 5,
    async bare(): Promise<Variant> {
      const emitter = new EventEmitter();
      return {
        async run(n) {
          const w = waiter(n);
          emitter.on('user.registered', w.onMessage);
          for (let sent = 0; sent < n; ) {
            const window = w.window(sent);
            for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) {
              const payload = { i: sent };
              setImmediate(() => emitter.emit('user.registered', payload));
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
      // What a team writes without Baton: inject into a headers object on emit, extract it
      // in the listener, a producer and a consumer span with the same semconv attributes
      // Baton sets, the handler inside the context.
      const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('by-hand');
      const emitter = new EventEmitter();
      return {
        async run(n) {
          const w = waiter(n);
          emitter.on(
            'user.registered',
            (payload: { i: number }, headers: Record<string, string>) => {
              const parent = propagation.extract(context.active(), headers);
              const span = tracer.startSpan(
                'process user.registered',
                { kind: SpanKind.CONSUMER, attributes: processAttributes(headers) },
                parent,
              );
              context.with(trace.setSpan(parent, span), () => w.onMessage(payload));
              span.end();
            },
          );
          for (let sent = 0; sent < n; ) {
            const window = w.window(sent);
            for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) {
              const span = tracer.startSpan('send user.registered', {
                kind: SpanKind.PRODUCER,
                attributes: SEND_ATTRIBUTES,
              });
              const headers: Record<string, string> = {};
              propagation.inject(trace.setSpan(context.active(), span), headers);
              const payload = { i: sent };
              setImmediate(() => emitter.emit('user.registered', payload, headers));
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
          const unsubscribe = bus.subscribe('user.registered', w.onMessage, {
            consumerGroup: 'bench',
          });
          for (let sent = 0; sent < n; ) {
            const window = w.window(sent);
            for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) {
              bus.publish('user.registered', { i: sent });
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
