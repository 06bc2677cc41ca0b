import { resetWarnings } from '@baton/core';
import {
  createGroupConsumer,
  type GroupConsumer,
  traceEntryHandler,
  traceProducer,
} from '@baton/ioredis';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { diag, SpanKind } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { REDIS_CLIENTS, replyEntries } from './redis-clients.js';

// The names of 0.1 keep working for one release, each with one deprecation warning.
const url = await brokerOrSkip('redis');

describe.skipIf(!url)('@baton/ioredis deprecated names', () => {
  const [{ create }] = REDIS_CLIENTS as [(typeof REDIS_CLIENTS)[number]];
  let redis: Redis;
  let telemetry: TestTelemetry;
  let stream: string;
  let consumer: GroupConsumer | undefined;

  beforeAll(() => {
    redis = create(url!);
  });
  afterAll(() => redis.quit());
  beforeEach(() => {
    resetWarnings();
    telemetry = createTestTelemetry();
    stream = uniqueName('baton-redis-deprecated');
  });
  afterEach(async () => {
    await consumer?.stop();
    await redis.del(stream);
    await telemetry.shutdown();
    vi.restoreAllMocks();
  });
  const providers = () => ({
    ...telemetry.providers,
  });
  const warnings = (warn: { mock: { calls: unknown[][] } }) =>
    warn.mock.calls.map(([message]) => String(message));

  it('createGroupConsumer takes group and eachEntry, and warns once', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const handled: string[] = [];
    consumer = createGroupConsumer(redis, {
      ...providers(),
      stream,
      group: 'old-names',
      createGroup: true,
      groupStartId: '0',
      fieldEncoding: 'utf8',
      eachEntry: (entry) => void handled.push(entry.fields.n ?? ''),
    });
    createGroupConsumer(redis, { stream, group: 'unused', eachEntry: () => {} });
    await consumer.start();
    await traceProducer(redis, providers()).add(stream, { n: '1' });
    await waitFor(() => handled.length === 1 && telemetry.spans().length === 2);
    const process = telemetry.spans().find((s) => s.kind === SpanKind.CONSUMER);
    expect(process?.attributes['messaging.consumer.group.name']).toBe('old-names');
    expect(handled).toEqual(['1']);
    expect(warnings(warn)).toEqual([
      expect.stringMatching(/^@baton\/ioredis: createGroupConsumer is deprecated/),
      expect.stringMatching(/^@baton\/ioredis: add\(\) .* is deprecated/),
    ]);
  });

  it('traceEntryHandler takes group, and warns once', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    await redis.xgroup('CREATE', stream, 'old-loop', '0', 'MKSTREAM');
    await redis.xadd(stream, '*', 'job', 'x');
    const handle = traceEntryHandler((entry) => entry.fields.job, {
      ...providers(),
      group: 'old-loop',
    });
    traceEntryHandler(() => {}, { group: 'unused' });
    const reply = await redis.xreadgroup('GROUP', 'old-loop', 'me', 'STREAMS', stream, '>');
    const [name, [entry]] = replyEntries<[string, string[]]>(reply)[0]!;
    expect(handle(name, entry!)).toBe('x');
    const [process] = telemetry.spans();
    expect(process?.attributes['messaging.consumer.group.name']).toBe('old-loop');
    expect(warnings(warn)).toEqual([
      expect.stringMatching(/^@baton\/ioredis: traceEntryHandler is deprecated/),
    ]);
  });
});
