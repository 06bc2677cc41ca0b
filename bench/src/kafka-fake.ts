import type { BatonOptions } from '@baton/core';
import { traceConsumer, traceProducer } from '@baton/kafkajs';
import { byHand, counter } from './kafka-reference.js';
import type { Scenario, Variant } from './measure.js';
import { handlerWork } from './work.js';

// NOT a broker measurement: the producer -> consumer path over an in-process kafkajs-shaped
// fake (headers encoded to Buffers and decoded as kafkajs does), so the figures isolate
// Baton's own per-message work; it runs anywhere.

const WINDOW = 256; // messages in flight at once: a steady flow rather than one huge burst

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
  function variant(wrap?: BatonOptions, reference?: BatonOptions): Variant {
    const hand = reference ? byHand(reference, 'bench') : undefined;
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
      handlerWork();
      received++;
      if (received === windowTarget) windowResolve();
      onMessage();
    };
    void consumer.run({
      eachMessage: async ({ topic, partition, message }) =>
        hand
          ? hand.process(topic, partition, message, () => handle(message.value))
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
    plan: { messages: 50_000, warmupMessages: 150_000, rounds: 5 },
    bare: async () => variant(),
    baton: async (options) => variant(options),
    handWritten: async (options) => variant(undefined, options),
  };
}
