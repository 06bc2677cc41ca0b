import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  AggregationType,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { METRIC_SENT_MESSAGES, MessagingTelemetry } from '../src/index.js';
import { BatchedCounter } from '../src/metrics.js';

class ManualReader extends MetricReader {
  constructor(temporality = AggregationTemporality.CUMULATIVE) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function sums(metrics: ResourceMetrics, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        // One series per destination here; its other attributes are the same for all.
        out.set(String(point.attributes['messaging.destination.name']), point.value as number);
      }
    }
  }
  return out;
}

const collect = async (reader: MetricReader) => (await reader.collect()).resourceMetrics;

describe('the batched message counters', () => {
  it('give every collection, of every reader, the same totals as one add per message', async () => {
    const cumulative = new ManualReader();
    const delta = new ManualReader(AggregationTemporality.DELTA);
    const provider = new MeterProvider({ readers: [cumulative, delta] });
    const baton = new MessagingTelemetry(
      { name: 'test', version: '0' },
      { meterProvider: provider },
    );
    const send = (destination: string) =>
      baton.publish({ system: 'test', destination }, (headers) => headers);

    for (let i = 0; i < 1000; i++) send('orders');
    for (let i = 0; i < 7; i++) send('users');
    const key = (destination: string) => destination;
    expect(sums(await collect(cumulative), METRIC_SENT_MESSAGES)).toEqual(
      new Map([
        [key('orders'), 1000],
        [key('users'), 7],
      ]),
    );
    // The other reader collects later and sees the same adds (its own delta).
    for (let i = 0; i < 5; i++) send('orders');
    expect(sums(await collect(delta), METRIC_SENT_MESSAGES).get(key('orders'))).toBe(1005);
    expect(sums(await collect(cumulative), METRIC_SENT_MESSAGES).get(key('orders'))).toBe(1005);
    send('orders');
    expect(sums(await collect(delta), METRIC_SENT_MESSAGES).get(key('orders'))).toBe(1);
    await provider.shutdown();
  });

  it('is flushed by the exporting reader at shutdown, and Views still see the counter', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const provider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
      views: [
        {
          instrumentName: METRIC_SENT_MESSAGES,
          name: 'renamed.sent',
          aggregation: { type: AggregationType.SUM },
        },
      ],
    });
    const baton = new MessagingTelemetry(
      { name: 'test', version: '0' },
      { meterProvider: provider },
    );
    for (let i = 0; i < 42; i++) baton.publish({ system: 'test', destination: 'q' }, (h) => h);
    await provider.shutdown();
    const exported = exporter.getMetrics().at(-1);
    expect(exported).toBeDefined();
    expect([...sums(exported as ResourceMetrics, 'renamed.sent').values()]).toEqual([42]);
  });

  it('adds directly past its bound of attribute sets, losing nothing', () => {
    const added: Array<[number, Attributes | undefined]> = [];
    const counter = new BatchedCounter({
      add: (value: number, attributes?: Attributes) => added.push([value, attributes]),
    });
    const sets = Array.from({ length: 2050 }, (_, i) => ({ i }));
    for (const set of sets) counter.add(1, set);
    counter.add(2, sets[0]);
    counter.add(1); // no attributes: straight through
    // 2048 held; the two past the bound and the attribute-less add went straight through.
    expect(added).toEqual([
      [1, { i: 2048 }],
      [1, { i: 2049 }],
      [1, undefined],
    ]);
    counter.flush();
    const total = added.reduce((sum, [value]) => sum + value, 0);
    expect(total).toBe(2050 + 2 + 1);
    expect(added.find(([, set]) => set === sets[0])?.[0]).toBe(3);
    counter.flush();
    expect(added.reduce((sum, [value]) => sum + value, 0)).toBe(total);
  });
});
