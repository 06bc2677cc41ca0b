import { randomUUID } from 'node:crypto';
import { createConsumer, traceProducer } from '@baton/ioredis';
import { isReachable } from '@baton/testing';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { Redis } from 'ioredis';
import type { Scenario, Variant } from './measure.js';
import { linkTo } from './reference.js';
import { handlerWork } from './work.js';

// Bare ioredis XADD / XREADGROUP / XACK against @baton/ioredis (traceProducer +
// createConsumer), and OpenTelemetry propagation written by hand, on the same Redis.
// Every variant reads with COUNT 100 on its own blocking connection, acknowledges each
// read's entries with one XACK, and keeps WINDOW entries in flight: a steady flow rather
// than one burst. CPU is this process's (ioredis + Baton); the Redis server is not counted.

const WINDOW = 256;
const COUNT = 100;
const BLOCK_MS = 1000;
const GROUP = 'bench';

const reachable = (address: string) => isReachable(address, 6379, 1500);

const unique = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Counts deliveries and lets the producer wait until its window has arrived. */
function waiter(n: number) {
  let received = 0;
  let target = 0;
  let release: () => void = () => {};
  return {
    /** Resolves once everything up to `sent + WINDOW` has been handled. */
    window(sent: number): Promise<void> {
      target = Math.min(n, sent + WINDOW);
      return new Promise((resolve) => {
        release = resolve;
        if (received >= target) resolve();
      });
    },
    onMessage(payload: string | undefined) {
      if (payload === undefined) throw new Error('an entry without its payload');
      handlerWork();
      received++;
      if (received === target) release();
    },
  };
}

type Entry = [id: string, fields: string[]];

function fieldRecord(flat: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}

/**
 * The XREADGROUP loop a team writes without Baton: read, handle each entry, one XACK per
 * read. `handle` gets the entry's fields as a record.
 */
function readLoop(
  redis: Redis,
  stream: string,
  handle: (id: string, fields: Record<string, string>) => void,
): { stop(): Promise<void> } {
  const blocking = redis.duplicate();
  let running = true;
  const done = (async () => {
    while (running) {
      const reply = (await blocking
        .xreadgroup('GROUP', GROUP, 'c1', 'COUNT', COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', stream, '>')
        .catch(() => null)) as Array<[string, Entry[]]> | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      for (const [id, flat] of entries) handle(id, fieldRecord(flat));
      await redis.xack(stream, GROUP, ...entries.map(([id]) => id));
    }
  })();
  return {
    async stop() {
      running = false;
      blocking.disconnect(); // ends a blocked read at once
      await done;
    },
  };
}

const payloadOf = (i: number) => JSON.stringify({ i, email: 'someone@example.com' });

async function produce(n: number, w: ReturnType<typeof waiter>, add: (i: number) => unknown) {
  for (let sent = 0; sent < n; ) {
    const window = w.window(sent);
    for (const end = Math.min(n, sent + WINDOW); sent < end; sent++) add(sent);
    await window;
  }
}

async function setUp(url: string) {
  const redis = new Redis(url);
  const stream = unique('baton-bench');
  await redis.xgroup('CREATE', stream, GROUP, '$', 'MKSTREAM');
  return {
    redis,
    stream,
    async tearDown() {
      await redis.del(stream);
      await redis.quit();
    },
  };
}

// What a team writes without Baton for the same telemetry: a send span (PRODUCER) and a
// process span (CONSUMER, the send span's child) with the semconv attributes Baton sets,
// `traceparent` and a correlation id (the conversation id) as entry fields, the entry id
// as `messaging.message.id`, the handler inside the process span's context.
function handWrittenVariant(url: string, tracer: Tracer): Promise<Variant> {
  return (async () => {
    const { redis, stream, tearDown } = await setUp(url);
    const common = {
      'messaging.system': 'redis',
      'messaging.destination.name': stream,
      'server.address': redis.options.host ?? '',
      'server.port': redis.options.port ?? 6379,
    };
    const sendAttributes = {
      ...common,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
    };
    const processAttributes = {
      ...common,
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': GROUP,
    };
    let onMessage: (payload: string | undefined) => void = () => {};
    const loop = readLoop(redis, stream, (id, fields) => {
      const parent: Context = propagation.extract(ROOT_CONTEXT, fields);
      const span = tracer.startSpan(
        `process ${stream}`,
        { kind: SpanKind.CONSUMER, attributes: processAttributes, links: linkTo(parent) },
        parent,
      );
      span.setAttributes({
        'messaging.message.id': id,
        'baton.correlation_id': fields['x-correlation-id'] ?? '',
        'baton.message.delivery_count': 1,
      });
      try {
        context.with(trace.setSpan(parent, span), () => onMessage(fields.payload));
      } finally {
        span.end();
      }
    });
    const add = async (i: number) => {
      const correlationId = randomUUID();
      const span = tracer.startSpan(`send ${stream}`, {
        kind: SpanKind.PRODUCER,
        attributes: sendAttributes,
      });
      span.setAttribute('baton.correlation_id', correlationId);
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      const args = ['payload', payloadOf(i), 'x-correlation-id', correlationId];
      for (const [name, value] of Object.entries(carrier)) args.push(name, value);
      try {
        const id = await redis.xadd(stream, '*', ...args);
        if (id) span.setAttribute('messaging.message.id', id);
      } finally {
        span.end();
      }
    };
    return {
      async run(n) {
        const w = waiter(n);
        onMessage = w.onMessage;
        await produce(n, w, add);
      },
      async teardown() {
        await loop.stop();
        await tearDown();
      },
    };
  })();
}

/** ioredis with and without Baton against the Redis in REDIS_URL (or 127.0.0.1:6379). */
export async function scenario(): Promise<Scenario | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await reachable(url))) return undefined;
  return {
    name: `ioredis XADD / XREADGROUP (COUNT ${COUNT}) / XACK vs @baton/ioredis, ${WINDOW} in flight`,
    plan: { messages: 50_000, warmupMessages: 150_000, rounds: 4 },
    async bare(): Promise<Variant> {
      const { redis, stream, tearDown } = await setUp(url);
      let onMessage: (payload: string | undefined) => void = () => {};
      const loop = readLoop(redis, stream, (_id, fields) => onMessage(fields.payload));
      return {
        async run(n) {
          const w = waiter(n);
          onMessage = w.onMessage;
          await produce(n, w, (i) => redis.xadd(stream, '*', 'payload', payloadOf(i)));
        },
        async teardown() {
          await loop.stop();
          await tearDown();
        },
      };
    },
    async baton(options): Promise<Variant> {
      const { redis, stream, tearDown } = await setUp(url);
      const traced = traceProducer(redis, options);
      let onMessage: (payload: string | undefined) => void = () => {};
      const consumer = createConsumer(redis, {
        ...options,
        stream,
        consumerGroup: GROUP,
        count: COUNT,
        blockMs: BLOCK_MS,
        fieldEncoding: 'utf8', // the bare loop reads strings too
        eachMessage: (entry) => onMessage(entry.fields.payload),
      });
      await consumer.start();
      return {
        async run(n) {
          const w = waiter(n);
          onMessage = w.onMessage;
          await produce(n, w, (i) => traced.xadd(stream, '*', 'payload', payloadOf(i)));
        },
        async teardown() {
          await consumer.stop();
          await tearDown();
        },
      };
    },
    handWritten: (options) =>
      handWrittenVariant(
        url,
        (options.tracerProvider ?? trace.getTracerProvider()).getTracer('by-hand'),
      ),
  };
}
