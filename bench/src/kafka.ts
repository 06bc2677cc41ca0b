import type { BatonOptions } from '@baton/core';
import { traceConsumer, traceProducer } from '@baton/kafkajs';
import { isReachable } from '@baton/testing';
import {
  context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { Scenario, Variant } from './measure.js';

// Two scenarios:
// - `scenario()`: bare kafkajs vs kafkajs wrapped by @baton/kafkajs against a real broker
//   (KAFKA_BROKERS); undefined (skipped) when none answers.
// - `fakeScenario()`: NOT a broker measurement. The same producer -> consumer path over an
//   in-process kafkajs-shaped fake (headers encoded to Buffers and decoded as kafkajs does),
//   so the figures isolate Baton's own per-message work; run it anywhere.

const WINDOW = 256; // messages in flight at once: a steady flow rather than one huge burst
const SEND_BATCH = 100; // messages per send() call in the broker scenario

const reachable = (address: string) => isReachable(address, 9092, 1500);

// What a team writes by hand without Baton: a send span injected into each message's
// headers, extraction from the Buffers kafkajs delivers, a process span around the handler.
const w3c = new W3CTraceContextPropagator();
const bufferGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return Buffer.isBuffer(value) ? value.toString() : (value as string | undefined);
  },
};

function byHand(options: BatonOptions) {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('by-hand');
  return {
    async send<M extends object, R>(
      topic: string,
      messages: M[],
      send: (messages: Array<M & { headers: Record<string, string> }>) => Promise<R>,
    ): Promise<R> {
      const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER });
      const ctx = trace.setSpan(context.active(), span);
      try {
        return await send(
          messages.map((m) => {
            const headers: Record<string, string> = {};
            w3c.inject(ctx, headers, defaultTextMapSetter);
            return { ...m, headers };
          }),
        );
      } finally {
        span.end();
      }
    },
    async process(topic: string, headers: Record<string, unknown>, handle: () => void) {
      const parent = w3c.extract(ROOT_CONTEXT, headers, bufferGetter);
      const span = tracer.startSpan(`process ${topic}`, { kind: SpanKind.CONSUMER }, parent);
      try {
        await context.with(trace.setSpan(parent, span), handle);
      } finally {
        span.end();
      }
    },
  };
}

function counter(n: number) {
  let received = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    done,
    onMessage() {
      received++;
      if (received === n) resolve();
    },
  };
}

const unique = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** kafkajs with and without Baton against the broker in KAFKA_BROKERS. */
export async function scenario(): Promise<Scenario | undefined> {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0 || !(await reachable(brokers[0] as string))) return undefined;
  const kafka = new Kafka({ clientId: 'baton-bench', brokers, logLevel: logLevel.NOTHING });

  async function variant(wrap?: BatonOptions, hand?: ReturnType<typeof byHand>): Promise<Variant> {
    const topic = unique('baton-bench');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    const rawProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await rawProducer.connect();
    const producer: Producer = wrap ? traceProducer(rawProducer, wrap) : rawProducer;
    const groupId = unique('baton-bench-group');
    const rawConsumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
    await rawConsumer.connect();
    const consumer: Consumer = wrap
      ? traceConsumer(rawConsumer, { ...wrap, consumerGroup: groupId })
      : rawConsumer;
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let onMessage: () => void = () => {};
    const joined = new Promise<void>((resolve) => {
      rawConsumer.on(rawConsumer.events.GROUP_JOIN, () => resolve());
    });
    const handle = (value: Buffer | null) => {
      if (value === null) throw new Error('unexpected tombstone');
      onMessage();
    };
    await consumer.run({
      eachMessage: async ({ message }) =>
        hand
          ? hand.process(topic, message.headers ?? {}, () => handle(message.value))
          : handle(message.value),
    });
    await joined; // the group join is set-up, not part of the measured run
    return {
      async run(n) {
        const c = counter(n);
        onMessage = c.onMessage;
        for (let sent = 0; sent < n; sent += SEND_BATCH) {
          const count = Math.min(SEND_BATCH, n - sent);
          const messages = Array.from({ length: count }, (_, i) => ({
            key: `user-${(sent + i) % 64}`,
            value: JSON.stringify({ i: sent + i, email: 'someone@example.com' }),
          }));
          if (hand) await hand.send(topic, messages, (m) => producer.send({ topic, messages: m }));
          else await producer.send({ topic, messages });
        }
        await c.done;
      },
      async teardown() {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => {});
        await admin.disconnect();
      },
    };
  }

  return {
    name: 'kafkajs vs @baton/kafkajs, real broker, send (100 msgs/call) + eachMessage',
    messages: 5000,
    rounds: 3,
    bare: () => variant(),
    baton: (options) => variant(options),
    handWritten: (options) => variant(undefined, byHand(options)),
  };
}

// --- the broker-less scenario -------------------------------------------------------------

type Headers = Record<string, unknown>;
type EachMessage = (payload: {
  topic: string;
  partition: number;
  message: {
    key: Buffer | null;
    value: Buffer | null;
    timestamp: string;
    offset: string;
    headers: Headers;
  };
  heartbeat(): Promise<void>;
  pause(): () => void;
}) => Promise<void>;

// kafkajs encodes every header value to bytes and decodes them as Buffers; the fake does
// the same so Baton's header reading is measured on the shapes it really gets.
function roundTripHeaders(headers: Headers | undefined): Headers {
  const decoded: Headers = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    decoded[key] = Array.isArray(value)
      ? value.map((v) => Buffer.from(v as string))
      : Buffer.from(value as string);
  }
  return decoded;
}

function fakeClient() {
  let eachMessage: EachMessage | undefined;
  let offset = 0;
  const heartbeat = async () => {};
  const pause = () => () => {};
  const producer = {
    async send(record: {
      topic: string;
      messages: ReadonlyArray<{ key?: string | null; value: string | null; headers?: Headers }>;
    }) {
      for (const m of record.messages) {
        const message = {
          key: m.key ? Buffer.from(m.key) : null,
          value: m.value === null ? null : Buffer.from(m.value),
          timestamp: String(Date.now()),
          offset: String(offset++),
          headers: roundTripHeaders(m.headers),
        };
        setImmediate(() => {
          void eachMessage?.({ topic: record.topic, partition: 0, message, heartbeat, pause });
        });
      }
      return [];
    },
    async sendBatch() {
      return [];
    },
    async disconnect() {},
  };
  const consumer = {
    async run(config?: { eachMessage?: EachMessage }) {
      eachMessage = config?.eachMessage;
    },
    async disconnect() {
      eachMessage = undefined;
    },
  };
  return { producer, consumer };
}

/** NOT a broker measurement: Baton's per-message cost around a kafkajs-shaped fake. */
export async function fakeScenario(): Promise<Scenario> {
  function variant(wrap?: BatonOptions, hand?: ReturnType<typeof byHand>): Variant {
    const fake = fakeClient();
    const producer = wrap ? traceProducer(fake.producer, wrap) : fake.producer;
    const consumer = wrap
      ? traceConsumer(fake.consumer, { ...wrap, consumerGroup: 'bench' })
      : fake.consumer;
    let onMessage: () => void = () => {};
    let windowTarget = 0;
    let windowResolve: () => void = () => {};
    let received = 0;
    const handle = (value: Buffer | null) => {
      if (value === null) throw new Error('unexpected tombstone');
      received++;
      if (received === windowTarget) windowResolve();
      onMessage();
    };
    void consumer.run({
      eachMessage: async ({ topic, message }) =>
        hand
          ? hand.process(topic, message.headers, () => handle(message.value))
          : handle(message.value),
    });
    return {
      async run(n) {
        const c = counter(n);
        onMessage = c.onMessage;
        received = 0;
        for (let sent = 0; sent < n; ) {
          windowTarget = Math.min(n, sent + WINDOW);
          const window = new Promise<void>((r) => {
            windowResolve = r;
          });
          for (; sent < windowTarget; sent++) {
            const topic = 'user.registered';
            const messages = [{ key: `user-${sent % 64}`, value: `{"i":${sent}}` }];
            if (hand)
              await hand.send(topic, messages, (m) => producer.send({ topic, messages: m }));
            else await producer.send({ topic, messages });
          }
          await window;
        }
        await c.done;
      },
      async teardown() {
        await consumer.disconnect();
      },
    };
  }
  return {
    name: 'kafkajs-shaped FAKE (no broker): send 1 msg/call + eachMessage, 256 in flight',
    messages: 20_000,
    rounds: 5,
    bare: async () => variant(),
    baton: async (options) => variant(options),
    handWritten: async (options) => variant(undefined, byHand(options)),
  };
}
