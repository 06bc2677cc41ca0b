import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { KafkaJSConnectionError, KafkaJSNonRetriableError } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceConsumer, traceProducer } from '../src/index.js';
import { protocolError, rebalanceInProgress } from './fake/errors.js';
import { type FakeConsumer, FakeKafka, type FakeRunConfig } from './fake-kafka.js';

// Each scenario runs twice on identical fakes, once with the bare client and once with
// Baton: what the handlers see, the errors kafkajs gets and what ends up committed must be
// the same, so every redelivery is kafkajs's own at-least-once and none is Baton's.

interface Context {
  kafka: FakeKafka;
  /** Makes an error that the run may hand to kafkajs (so identity can be checked). */
  fail<E>(error: E): E;
}

interface Scenario {
  name: string;
  mode: 'eachMessage' | 'eachBatch';
  messages: number;
  partitions?: number;
  maxBatchSize?: number;
  /** The error a handler throws for this delivery (attempt 1, 2, ...), if any. */
  fail?(index: number, attempt: number, ctx: Context): unknown;
  /** Runs after the handler handled its `handled`-th delivery. */
  after?(handled: number, ctx: Context): void;
  /** The consumer stops for good (a non-retriable error). */
  stops?: boolean;
}

interface Outcome {
  delivered: number[];
  crashes: unknown[];
  created: unknown[];
  committed: number;
  telemetry?: TestTelemetry;
}

const scenarios: Scenario[] = [
  {
    name: 'eachMessage handlers failing once',
    mode: 'eachMessage',
    messages: 60,
    fail: (i, attempt, ctx) =>
      i % 7 === 3 && attempt === 1 ? ctx.fail(new Error(`m-${i}`)) : undefined,
  },
  {
    name: 'eachBatch crashing after resolving part of its batch',
    mode: 'eachBatch',
    messages: 60,
    maxBatchSize: 10,
    fail: (i, attempt, ctx) =>
      i % 13 === 5 && attempt === 1 ? ctx.fail(new TypeError(`m-${i}`)) : undefined,
  },
  {
    name: 'fetch and commit requests failing',
    mode: 'eachMessage',
    messages: 40,
    partitions: 2,
    maxBatchSize: 5,
    after(handled, { kafka, fail }) {
      if (handled === 5)
        kafka.faults.fetch.push(fail(new KafkaJSConnectionError('Connection timeout')));
      if (handled === 12)
        kafka.faults.commit.push(fail(protocolError('NOT_COORDINATOR', 16, true)));
      if (handled === 20)
        kafka.faults.commit.push(fail(new KafkaJSConnectionError('Connection closed')));
    },
  },
  {
    name: 'the broker going away mid-run and coming back',
    mode: 'eachBatch',
    messages: 50,
    maxBatchSize: 8,
    after(handled, { kafka, fail }) {
      if (handled !== 12) return;
      for (let i = 0; i < 4; i++)
        kafka.faults.fetch.push(fail(new KafkaJSConnectionError('ECONNREFUSED')));
    },
  },
  {
    name: 'a rebalance in the middle of a batch',
    mode: 'eachBatch',
    messages: 40,
    maxBatchSize: 10,
    after(handled, { kafka, fail }) {
      if (handled === 7 || handled === 23) kafka.faults.heartbeat.push(fail(rebalanceInProgress()));
    },
  },
  {
    name: 'a non-retriable error stopping the consumer',
    mode: 'eachMessage',
    messages: 30,
    maxBatchSize: 4,
    stops: true,
    fail: (i, _attempt, ctx) =>
      i === 10 ? ctx.fail(new KafkaJSNonRetriableError('poison')) : undefined,
  },
];

function runConfig(scenario: Scenario, ctx: Context, delivered: number[]): FakeRunConfig {
  const attempts = new Map<number, number>();
  const handle = (message: { value: Buffer | null }) => {
    const index = Number(message.value?.toString().slice(2));
    const attempt = (attempts.get(index) ?? 0) + 1;
    attempts.set(index, attempt);
    delivered.push(index);
    const error = scenario.fail?.(index, attempt, ctx);
    if (error !== undefined) throw error;
  };
  if (scenario.mode === 'eachMessage') {
    return {
      eachMessage: async ({ message }) => {
        handle(message);
        scenario.after?.(delivered.length, ctx);
      },
    };
  }
  return {
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const message of batch.messages) {
        handle(message);
        resolveOffset(message.offset);
        scenario.after?.(delivered.length, ctx);
        await heartbeat();
      }
    },
  };
}

async function run(scenario: Scenario, telemetry?: TestTelemetry): Promise<Outcome> {
  const kafka = new FakeKafka();
  const partitions = scenario.partitions ?? 1;
  kafka.createTopic('t', partitions);
  const options = telemetry && {
    ...telemetry.providers,
  };
  const producer = options ? traceProducer(kafka.producer(), options) : kafka.producer();
  await producer.send({
    topic: 't',
    messages: Array.from({ length: scenario.messages }, (_, i) => ({
      value: `m-${i}`,
      partition: i % partitions,
    })),
  });
  const created: unknown[] = [];
  const ctx: Context = {
    kafka,
    fail: (error) => {
      created.push(error);
      return error;
    },
  };
  const raw: FakeConsumer = kafka.consumer({ groupId: 'g', maxBatchSize: scenario.maxBatchSize });
  const consumer = options ? traceConsumer(raw, options) : raw;
  const delivered: number[] = [];
  await consumer.subscribe({ topics: ['t'] });
  await consumer.run(runConfig(scenario, ctx, delivered));
  const committed = () =>
    [...kafka.groupOffsets('g').values()].reduce((sum, offset) => sum + offset, 0);
  await waitFor(
    () => (scenario.stops ? raw.crashes.length > 0 : committed() === scenario.messages),
    {
      message: `${scenario.name}: the end of the run`,
    },
  );
  await consumer.disconnect(); // returns: no hang
  return { delivered, crashes: raw.crashes, created, committed: committed(), telemetry };
}

describe('broker faults with Baton in the loop', () => {
  let telemetry: TestTelemetry;
  beforeEach(() => {
    telemetry = createTestTelemetry();
  });
  afterEach(() => telemetry.shutdown());

  for (const scenario of scenarios) {
    it(`delivers, fails and commits exactly as bare kafkajs: ${scenario.name}`, async () => {
      const bare = await run(scenario);
      const traced = await run(scenario, telemetry);
      expect(traced.delivered).toEqual(bare.delivered);
      expect(traced.committed).toBe(bare.committed);
      expect(traced.crashes).toHaveLength(bare.crashes.length);
      for (const crash of traced.crashes) expect(traced.created).toContain(crash); // unwrapped
      if (scenario.stops) {
        expect(traced.crashes).toHaveLength(1);
      } else {
        expect(traced.committed).toBe(scenario.messages);
        expect(new Set(traced.delivered).size).toBe(scenario.messages); // nothing lost
      }
      // Every process span belongs to the producer's trace (child, or a link per message).
      const [send] = telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
      const processes = telemetry.spans().filter((s) => s.kind === SpanKind.CONSUMER);
      expect(processes.length).toBeGreaterThan(0);
      for (const span of processes) {
        const tied =
          span.parentSpanContext?.spanId === send?.spanContext().spanId ||
          span.links.every((l) => l.context.spanId === send?.spanContext().spanId);
        expect(tied).toBe(true);
      }
    });
  }

  it('returns from disconnect while the broker stays away, and a later consumer gets the rest', async () => {
    const kafka = new FakeKafka();
    await kafka.producer().send({
      topic: 't',
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `m-${i}` })),
    });
    const options = { tracerProvider: telemetry.tracerProvider };
    const raw = kafka.consumer({ groupId: 'g', maxBatchSize: 5 });
    const consumer = traceConsumer(raw, options);
    await consumer.subscribe({ topics: ['t'] });
    const handled: string[] = [];
    const gone = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    await consumer.run({
      eachMessage: async ({ message }) => {
        handled.push(message.value?.toString() ?? '');
        if (handled.length === 7) kafka.faults.brokerDown = gone;
      },
    });
    await waitFor(() => raw.crashes.length >= 3, { message: 'crashes while the broker is away' });
    await consumer.disconnect();
    expect(new Set(raw.crashes)).toEqual(new Set([gone]));
    expect(kafka.groupOffsets('g').get('t:0')).toBe(10); // the batch in hand finished

    kafka.faults.brokerDown = undefined;
    const later = traceConsumer(kafka.consumer({ groupId: 'g' }), options);
    await later.subscribe({ topics: ['t'] });
    await later.run({ eachMessage: async ({ message }) => void handled.push(`${message.value}`) });
    await waitFor(() => kafka.groupOffsets('g').get('t:0') === 20);
    await later.disconnect();
    expect(handled.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m-${i}`).sort());
  });

  it('moves partitions to a new member mid-batch with nothing lost or handled twice', async () => {
    const kafka = new FakeKafka();
    kafka.createTopic('t', 4);
    const producer = traceProducer(kafka.producer(), { tracerProvider: telemetry.tracerProvider });
    await producer.send({
      topic: 't',
      messages: Array.from({ length: 200 }, (_, i) => ({ value: `m-${i}`, partition: i % 4 })),
    });
    const options = { tracerProvider: telemetry.tracerProvider, consumerGroup: 'g' };
    const handled = new Map<string, string[]>();
    const members: FakeConsumer[] = [];
    const start = async (name: string) => {
      const consumer = traceConsumer(kafka.consumer({ groupId: 'g', maxBatchSize: 10 }), options);
      members.push(consumer);
      handled.set(name, []);
      await consumer.subscribe({ topics: ['t'] });
      await consumer.run({
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          for (const message of batch.messages) {
            handled.get(name)?.push(message.value?.toString() ?? '');
            resolveOffset(message.offset);
            if (name === 'first' && handled.get('first')?.length === 25) await start('second');
            await heartbeat(); // throws REBALANCE_IN_PROGRESS once `second` joined
          }
        },
      });
    };
    await start('first');
    const committed = () => [...kafka.groupOffsets('g').values()].reduce((a, b) => a + b, 0);
    await waitFor(() => committed() === 200, { message: '200 committed' });
    await Promise.all(members.map((member) => member.disconnect()));
    const all = [...handled.values()].flat();
    expect(all.sort()).toEqual(Array.from({ length: 200 }, (_, i) => `m-${i}`).sort());
    expect(handled.get('second')?.length).toBeGreaterThan(0);
    const revoked = telemetry
      .spans()
      .filter((s) => s.kind === SpanKind.CONSUMER && s.status.code === SpanStatusCode.ERROR);
    expect(revoked.map((s) => s.attributes['error.type'])).toEqual(['REBALANCE_IN_PROGRESS']);
  });
});
