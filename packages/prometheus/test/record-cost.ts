// What @baton/prometheus adds to Baton's record path, per metric record. Not a test (timings
// are never assertions): run it on the built packages, on a quiet machine:
//
//   npm run build && node packages/prometheus/test/record-cost.ts
//
// It times the same publish + process loop through core's MessagingTelemetry, with a
// sampled tracer (so every record carries an exemplar), alternately with and without
// createPrometheusMetrics listening, and reports the median difference per record (a
// publish records 2: sent, operation duration; a process 3: consumed, process duration,
// time in queue), in CPU time. Destinations cycle through 20 names, so 20 series per family.
import { addMetricListener, type MessageDescription, MessagingTelemetry } from '@baton/core';
import { createPrometheusMetrics } from '@baton/prometheus';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

const OPERATIONS = 20_000;
const ROUNDS = 21;
const RECORDS_PER_OPERATION = 5;

const telemetry = new MessagingTelemetry(
  { name: 'bench', version: '0' },
  { tracerProvider: new BasicTracerProvider() },
);
const destinations = Array.from({ length: 20 }, (_, i) => `orders-${i}`);

// CPU time, not wall time: on a shared machine another process's slice would count.
function loop(): number {
  const start = process.cpuUsage();
  for (let i = 0; i < OPERATIONS; i++) {
    const destination = destinations[i % destinations.length] as string;
    telemetry.publish({ system: 'redis', destination, headers: {} }, () => undefined);
    const message: MessageDescription = {
      system: 'redis',
      destination,
      consumerGroup: 'billing',
      headers: {},
      timestampMs: Date.now() - 3,
    };
    telemetry.process(message, () => undefined);
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / OPERATIONS;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

loop(); // warm up both paths
const warm = createPrometheusMetrics();
loop();
warm.stop();

const without: number[] = [];
const withNoop: number[] = [];
const withExporter: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  without.push(loop());
  // Core builds a record for listeners only when there is one: a no-op listener shows
  // what core's side of it costs.
  const remove = addMetricListener(() => {});
  withNoop.push(loop());
  remove();
  const metrics = createPrometheusMetrics();
  withExporter.push(loop());
  metrics.stop();
}
const base = median(without);
const perRecord = (values: number[]) =>
  ((median(values) - base) / RECORDS_PER_OPERATION).toFixed(0);
console.log(
  `publish+process (5 records, sampled spans): ${base.toFixed(0)} ns without listeners, ${median(withExporter).toFixed(0)} ns with @baton/prometheus`,
);
console.log(
  `per record: ${perRecord(withExporter)} ns with @baton/prometheus, ${perRecord(withNoop)} ns of it with a no-op listener (median of ${ROUNDS} rounds of ${OPERATIONS} operations)`,
);
const metrics = createPrometheusMetrics();
loop();
const started = process.hrtime.bigint();
const text = await metrics.metrics();
const scrapeMs = Number(process.hrtime.bigint() - started) / 1e6;
const lines = text.split('\n');
console.log(
  `one scrape: ${scrapeMs.toFixed(1)} ms for ${lines.length} lines (${lines.filter((l) => l.includes(' # {')).length} with an exemplar)`,
);
metrics.stop();
