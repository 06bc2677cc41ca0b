import {
  ATTR_BATON_DESTINATION_PUBLISHED_NAME,
  METRIC_CONSUMED_MESSAGES,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
} from '@baton/core';
import { histogramQuantile } from './quantile.js';
import type {
  ServiceMapEdge,
  ServiceMapHistogram,
  ServiceMapOptions,
  ServiceMapPoint,
  ServiceMetrics,
} from './types.js';

interface ProducerHalf {
  service: string;
  sent: number;
  sendFailed: number;
}

interface ConsumerHalf {
  service: string;
  group: string | undefined;
  /** The consumer's own name of the destination (RabbitMQ: with the queue). */
  own: string;
  consumed: number;
  failed: number;
  process: MergedHistogram;
  timeInQueue: MergedHistogram;
}

interface MergedHistogram {
  boundaries: readonly number[] | undefined;
  counts: number[];
}

interface Destination {
  system: string;
  destination: string;
  producers: Map<string, ProducerHalf>;
  consumers: Map<string, ConsumerHalf>;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

/**
 * The service dependency map from metrics alone, as the `baton_edge:` recording rules
 * compute it in Prometheus: every service's sends to a destination joined, on the
 * destination, with every service's consumption from it. The destination is its template
 * where the metrics carry one; a consumer's is the name its producers used
 * (`baton.destination.published_name`, RabbitMQ) where it carries that, its own name
 * then kept as the edge's `consumerDestination`. One edge per (producer service,
 * destination, consumer service and group). A destination that only one side reports gives
 * an edge with the other side `undefined`.
 *
 * The consumer side (consumed, failed, p95s) is the consumer's, over the messages of every
 * producer of the destination: which producer's messages failed is a question for traces.
 *
 * @param sources each service's metric points (cumulative, e.g. one collection of its
 *   OpenTelemetry `MetricReader`, or `@baton/testing`'s `metricPoints()`).
 * @example
 * const edges = serviceMap([
 *   { service: 'user_service', points: await userTelemetry.metricPoints() },
 *   { service: 'notification_service', points: await notificationTelemetry.metricPoints() },
 * ]);
 * console.log(formatServiceMap(edges));
 */
export function serviceMap(
  sources: Iterable<ServiceMetrics>,
  options: ServiceMapOptions = {},
): ServiceMapEdge[] {
  const destinations = new Map<string, Destination>();
  for (const { service, points } of sources) {
    for (const point of points) addPoint(destinations, service, point);
  }
  const interval = options.intervalSeconds;
  const perSecond = interval !== undefined && interval > 0 ? interval : undefined;
  const edges: ServiceMapEdge[] = [];
  for (const destination of destinations.values()) {
    const producers: Array<ProducerHalf | undefined> = [...destination.producers.values()];
    const consumers: Array<ConsumerHalf | undefined> = [...destination.consumers.values()];
    if (producers.length === 0) producers.push(undefined);
    if (consumers.length === 0) consumers.push(undefined);
    for (const producer of producers) {
      for (const consumer of consumers) {
        edges.push(edgeOf(destination, producer, consumer, perSecond));
      }
    }
  }
  return edges.sort(compareEdges);
}

function addPoint(destinations: Map<string, Destination>, service: string, point: ServiceMapPoint) {
  const role =
    point.name === METRIC_SENT_MESSAGES
      ? 'producer'
      : point.name === METRIC_CONSUMED_MESSAGES ||
          point.name === METRIC_PROCESS_DURATION ||
          point.name === METRIC_TIME_IN_QUEUE
        ? 'consumer'
        : undefined;
  if (role === undefined) return;
  const attributes = point.attributes;
  const system = text(attributes['messaging.system'] ?? attributes['messaging.system.name']);
  // The template where the metrics carry one (semconv: instead of the name).
  const own = text(
    attributes['messaging.destination.template'] ?? attributes['messaging.destination.name'],
  );
  // A consumer joins on the name its producers used, where its adapter reports it (RabbitMQ
  // consumers read from `{exchange}:{routing key}:{queue}`, sent to `{exchange}:{routing key}`).
  const published =
    role === 'consumer' ? text(attributes[ATTR_BATON_DESTINATION_PUBLISHED_NAME]) : undefined;
  const name = published || own;
  if (system === undefined || name === undefined || own === undefined) return;
  const key = `${system}\u0000${name}`;
  let destination = destinations.get(key);
  if (destination === undefined) {
    destination = { system, destination: name, producers: new Map(), consumers: new Map() };
    destinations.set(key, destination);
  }
  const failed = attributes['error.type'] !== undefined;
  if (role === 'producer') {
    let half = destination.producers.get(service);
    if (half === undefined) {
      half = { service, sent: 0, sendFailed: 0 };
      destination.producers.set(service, half);
    }
    half.sent += point.value ?? 0;
    if (failed) half.sendFailed += point.value ?? 0;
    return;
  }
  const group = text(attributes['messaging.consumer.group.name']);
  const consumerKey = `${service}\u0000${group ?? ''}\u0000${own}`;
  let half = destination.consumers.get(consumerKey);
  if (half === undefined) {
    half = {
      service,
      group,
      own,
      consumed: 0,
      failed: 0,
      process: { boundaries: undefined, counts: [] },
      timeInQueue: { boundaries: undefined, counts: [] },
    };
    destination.consumers.set(consumerKey, half);
  }
  if (point.name === METRIC_CONSUMED_MESSAGES) {
    half.consumed += point.value ?? 0;
    if (failed) half.failed += point.value ?? 0;
  } else if (point.histogram !== undefined) {
    merge(
      point.name === METRIC_PROCESS_DURATION ? half.process : half.timeInQueue,
      point.histogram,
    );
  }
}

// Adds a histogram point's bucket counts; one with other boundaries than the first is left
// out (Baton's histograms all share core's bucket advice).
function merge(into: MergedHistogram, histogram: ServiceMapHistogram): void {
  const { boundaries, counts } = histogram.buckets;
  if (into.boundaries === undefined) {
    into.boundaries = [...boundaries];
    into.counts = counts.map(() => 0);
  }
  const same =
    into.boundaries.length === boundaries.length &&
    into.boundaries.every((b, i) => b === boundaries[i]) &&
    into.counts.length === counts.length;
  if (!same) return;
  counts.forEach((count, i) => {
    into.counts[i] = (into.counts[i] as number) + count;
  });
}

function p95(histogram: MergedHistogram): number | undefined {
  if (histogram.boundaries === undefined) return undefined;
  return histogramQuantile(0.95, histogram.boundaries, histogram.counts);
}

function edgeOf(
  destination: Destination,
  producer: ProducerHalf | undefined,
  consumer: ConsumerHalf | undefined,
  intervalSeconds: number | undefined,
): ServiceMapEdge {
  const processP95 = consumer && p95(consumer.process);
  const queueP95 = consumer && p95(consumer.timeInQueue);
  return {
    ...(producer && { producer: producer.service }),
    system: destination.system,
    destination: destination.destination,
    ...(consumer && { consumer: consumer.service }),
    ...(consumer?.group !== undefined && { consumerGroup: consumer.group }),
    ...(consumer !== undefined &&
      consumer.own !== destination.destination && { consumerDestination: consumer.own }),
    sent: producer?.sent ?? 0,
    sendFailed: producer?.sendFailed ?? 0,
    consumed: consumer?.consumed ?? 0,
    failed: consumer?.failed ?? 0,
    ...(consumer !== undefined &&
      consumer.consumed > 0 && { errorRatio: consumer.failed / consumer.consumed }),
    ...(processP95 !== undefined && { processP95Seconds: processP95 }),
    ...(queueP95 !== undefined && { timeInQueueP95Seconds: queueP95 }),
    ...(intervalSeconds !== undefined &&
      consumer !== undefined && { consumedPerSecond: consumer.consumed / intervalSeconds }),
  };
}

function compareEdges(a: ServiceMapEdge, b: ServiceMapEdge): number {
  const keys = (e: ServiceMapEdge) => [
    e.system,
    e.destination,
    e.producer ?? '',
    e.consumer ?? '',
    e.consumerGroup ?? '',
    e.consumerDestination ?? '',
  ];
  const [x, y] = [keys(a), keys(b)];
  for (let i = 0; i < x.length; i++) {
    const order = (x[i] as string).localeCompare(y[i] as string);
    if (order !== 0) return order;
  }
  return 0;
}
