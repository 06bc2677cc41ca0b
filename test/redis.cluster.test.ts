import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceProducer } from '@baton/ioredis';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster6 } from 'ioredis6';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import { hasRedisServer, OwnRedis } from './redis-server.js';

// traceProducer on an ioredis Cluster, against a one-node Redis Cluster this test starts
// (redis-server in cluster mode on a free port, holding every slot).
const url = await brokerOrSkip('redis');
const canStartRedis = hasRedisServer();
if (url && !canStartRedis) console.warn('\n*** Redis Cluster tests SKIPPED: no redis-server ***\n');

type AnyCluster = Pick<Cluster, 'xadd' | 'pipeline' | 'multi' | 'xrange' | 'del' | 'quit'>;
const CLUSTERS: ReadonlyArray<{ name: string; create(port: number): AnyCluster }> = [
  { name: 'ioredis 5', create: (port) => new Cluster([{ host: '127.0.0.1', port }]) },
  {
    name: 'ioredis 6',
    create: (port) => new Cluster6([{ host: '127.0.0.1', port }]) as unknown as AnyCluster,
  },
];

describe.skipIf(!url || !canStartRedis)('traceProducer on a Redis Cluster', () => {
  let node: OwnRedis;
  let dir: string;
  let telemetry: TestTelemetry;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-cluster-'));
    node = await OwnRedis.start([
      '--cluster-enabled',
      'yes',
      // Alone, a node does not know its own address: CLUSTER SLOTS would say "".
      '--cluster-announce-ip',
      '127.0.0.1',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--dir',
      dir,
    ]);
    const admin = new Redis(node.url);
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor(
      async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
      {
        message: 'the cluster up',
      },
    );
    admin.disconnect();
  });
  afterAll(async () => {
    await node?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    telemetry = createTestTelemetry();
  });
  afterEach(() => telemetry.shutdown());

  it.each(CLUSTERS)(
    'traces xadd on a $name Cluster, its pipeline() and its multi()',
    async ({ create }) => {
      const cluster = create(node.port);
      const stream = '{orders}baton-cluster';
      try {
        const traced = traceProducer(cluster, { tracerProvider: telemetry.tracerProvider });
        const id = await traced.xadd(stream, '*', 'n', '1');
        await traced.pipeline().xadd(stream, '*', 'n', '2').exec();
        await traced.multi().xadd(stream, '*', 'n', '3').exec();
        await waitFor(() => telemetry.spans().length === 3, { message: 'three send spans' });
        const entries = await cluster.xrange(stream, '-', '+');
        expect(entries[0]?.[0]).toBe(id);
        const sends = telemetry.spans();
        expect(sends.map((s) => [s.name, s.kind])).toEqual([
          [`send ${stream}`, SpanKind.PRODUCER],
          [`send ${stream}`, SpanKind.PRODUCER],
          [`send ${stream}`, SpanKind.PRODUCER],
        ]);
        entries.forEach(([, fields], i) => {
          const { traceId, spanId } = sends[i]!.spanContext();
          expect(fields.slice(0, 4)).toEqual([
            'n',
            String(i + 1),
            'traceparent',
            `00-${traceId}-${spanId}-01`,
          ]);
        });
      } finally {
        await cluster.del(stream);
        await cluster.quit();
      }
    },
  );
});
