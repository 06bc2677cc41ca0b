import { createEventBus } from '@baton/event-emitter';
import { createTestTelemetry } from '@baton/testing';
import { describe, expect, it } from 'vitest';
import {
  formatServiceMap,
  histogramQuantile,
  type ServiceMapPoint,
  type ServiceMetrics,
  serviceMap,
} from '../src/index.js';
import { type Events, SmtpError } from './setup.js';

// Ten minutes of the promtool case "the service map's edges" in
// observability/prometheus/baton-rules.test.yml, as each service's cumulative OpenTelemetry
// points: serviceMap() must find the edges and numbers the recording rules find.
const redis = (destination: string, operation: string, extra: Record<string, string> = {}) => ({
  'messaging.system': 'redis',
  'messaging.operation.name': operation,
  'messaging.destination.name': destination,
  ...extra,
});
const sent = (destination: string, value: number, extra: Record<string, string> = {}) => ({
  name: 'messaging.client.sent.messages',
  attributes: redis(destination, 'send', extra),
  value,
});
const group = (name: string, extra: Record<string, string> = {}) =>
  redis('user.registered', 'process', { 'messaging.consumer.group.name': name, ...extra });
const histogram = (name: string, groupName: string, boundaries: number[], counts: number[]) => ({
  name,
  attributes: group(groupName),
  histogram: {
    count: counts.reduce((a, b) => a + b, 0),
    buckets: { boundaries, counts },
  },
});
const consumed = (groupName: string, value: number, extra: Record<string, string> = {}) => ({
  name: 'messaging.client.consumed.messages',
  attributes: group(groupName, extra),
  value,
});

const SOURCES: ServiceMetrics[] = [
  { service: 'user_service', points: [sent('user.registered', 6000)] },
  {
    service: 'admin_service',
    points: [
      sent('user.registered', 570),
      sent('user.registered', 30, { 'error.type': 'ReplyError' }),
    ],
  },
  { service: 'billing_service', points: [sent('billing.events', 1200)] },
  {
    service: 'notification_service',
    points: [
      consumed('notifications', 5700),
      consumed('notifications', 300, { 'error.type': 'SmtpError' }),
      histogram('messaging.process.duration', 'notifications', [0.05, 0.1], [3600, 2400, 0]),
      histogram('baton.consumer.time_in_queue', 'notifications', [0.005, 0.01], [1200, 4800, 0]),
    ],
  },
  {
    service: 'audit_service',
    points: [
      consumed('audit', 6000),
      histogram('messaging.process.duration', 'audit', [0.005, 0.1], [6000, 0, 0]),
      { name: 'some.other.metric', attributes: group('audit'), value: 1 } as ServiceMapPoint,
    ],
  },
];

describe('serviceMap', () => {
  it("joins every producer of a destination with every consumer, with the rules' numbers", () => {
    const edges = serviceMap(SOURCES, { intervalSeconds: 600 });
    const notifications = {
      consumer: 'notification_service',
      consumerGroup: 'notifications',
      consumed: 6000,
      failed: 300,
      errorRatio: 0.05,
      processP95Seconds: 0.09375,
      timeInQueueP95Seconds: 0.0096875,
      consumedPerSecond: 10,
    };
    const audit = {
      consumer: 'audit_service',
      consumerGroup: 'audit',
      consumed: 6000,
      failed: 0,
      errorRatio: 0,
      processP95Seconds: 0.00475,
      consumedPerSecond: 10,
    };
    const admin = { producer: 'admin_service', sent: 600, sendFailed: 30 };
    const user = { producer: 'user_service', sent: 6000, sendFailed: 0 };
    const userRegistered = { system: 'redis', destination: 'user.registered' };
    expect(edges).toEqual([
      {
        producer: 'billing_service',
        system: 'redis',
        destination: 'billing.events',
        sent: 1200,
        sendFailed: 0,
        consumed: 0,
        failed: 0,
      },
      { ...admin, ...userRegistered, ...audit },
      { ...admin, ...userRegistered, ...notifications },
      { ...user, ...userRegistered, ...audit },
      { ...user, ...userRegistered, ...notifications },
    ]);
  });

  it('gives an edge without a producer for a destination only consumers report', () => {
    const [edge, ...rest] = serviceMap(SOURCES.filter((s) => s.service === 'audit_service'));
    expect(rest).toEqual([]);
    expect(edge).toMatchObject({ consumer: 'audit_service', destination: 'user.registered' });
    expect(edge).not.toHaveProperty('producer');
  });

  // The promtool case "RabbitMQ service-map halves meet on the published name, templates
  // preferred", ten minutes of it as cumulative points.
  it("joins RabbitMQ consumers on their producers' name, and templated destinations on the template", () => {
    const rabbit = (extra: Record<string, string>) => ({
      'messaging.system': 'rabbitmq',
      ...extra,
    });
    const edges = serviceMap([
      {
        service: 'user_service',
        points: [
          {
            name: 'messaging.client.sent.messages',
            attributes: rabbit({ 'messaging.destination.name': 'users:user.registered' }),
            value: 6000,
          },
          {
            name: 'messaging.client.sent.messages',
            attributes: rabbit({ 'messaging.destination.template': 'users:user.{id}.deleted' }),
            value: 3000,
          },
        ],
      },
      {
        service: 'notification_service',
        points: [
          {
            name: 'messaging.client.consumed.messages',
            attributes: rabbit({
              'messaging.destination.name': 'users:user.registered:notifications',
              'baton.destination.published_name': 'users:user.registered',
            }),
            value: 6000,
          },
          {
            name: 'messaging.client.consumed.messages',
            attributes: rabbit({
              'messaging.destination.name': 'users:user.registered:notifications',
              'baton.destination.published_name': 'users:user.registered',
              'error.type': 'SmtpError',
            }),
            value: 600,
          },
        ],
      },
      {
        service: 'audit_service',
        points: [
          {
            name: 'messaging.client.consumed.messages',
            attributes: rabbit({
              'messaging.destination.template': 'users:user.{id}.deleted:audit',
              'baton.destination.published_name': 'users:user.{id}.deleted',
            }),
            value: 3000,
          },
        ],
      },
    ]);
    expect(
      edges.map((e) => [e.producer, e.destination, e.consumer, e.consumerDestination, e.consumed]),
    ).toEqual([
      [
        'user_service',
        'users:user.{id}.deleted',
        'audit_service',
        'users:user.{id}.deleted:audit',
        3000,
      ],
      [
        'user_service',
        'users:user.registered',
        'notification_service',
        'users:user.registered:notifications',
        6600,
      ],
    ]);
    expect(edges[1]?.errorRatio).toBeCloseTo(600 / 6600);
  });

  it('finds the edge in the points of two services that an SDK recorded', async () => {
    const user = createTestTelemetry();
    const notification = createTestTelemetry();
    const bus = createEventBus<Events>({
      tracerProvider: user.tracerProvider,
      meterProvider: user.meterProvider,
      onError: () => {},
    });
    bus
      .withOptions({
        tracerProvider: notification.tracerProvider,
        meterProvider: notification.meterProvider,
        semconvStability: 'stable',
      })
      .subscribe(
        'user.registered',
        ({ n }) => {
          if (n === 4) throw new SmtpError('451');
        },
        { consumerGroup: 'notification_service' },
      );
    for (let n = 1; n <= 4; n++) bus.publish('user.registered', { n });
    await bus.idle();
    const edges = serviceMap([
      { service: 'user_service', points: await user.metricPoints() },
      { service: 'notification_service', points: await notification.metricPoints() },
    ]);
    expect(edges).toEqual([
      {
        producer: 'user_service',
        system: 'in_process',
        destination: 'user.registered',
        consumer: 'notification_service',
        consumerGroup: 'notification_service',
        sent: 4,
        sendFailed: 0,
        consumed: 4,
        failed: 1,
        errorRatio: 0.25,
        processP95Seconds: expect.any(Number),
        timeInQueueP95Seconds: expect.any(Number),
      },
    ]);
    expect(edges[0]?.processP95Seconds).toBeGreaterThan(0);
  });
});

describe('formatServiceMap', () => {
  it('prints one aligned line per edge', () => {
    expect(formatServiceMap(serviceMap(SOURCES, { intervalSeconds: 600 }))).toBe(
      [
        'producer           destination                consumer                                   consumed  failed  process p95  in queue p95',
        'billing_service ─▶ billing.events (redis)  ─▶ (no consumer seen)                                —       —            —             —',
        'admin_service   ─▶ user.registered (redis) ─▶ audit_service [audit]                 6000 (10.0/s)    0.0%       4.8 ms             —',
        'admin_service   ─▶ user.registered (redis) ─▶ notification_service [notifications]  6000 (10.0/s)    5.0%      93.8 ms        9.7 ms',
        'user_service    ─▶ user.registered (redis) ─▶ audit_service [audit]                 6000 (10.0/s)    0.0%       4.8 ms             —',
        'user_service    ─▶ user.registered (redis) ─▶ notification_service [notifications]  6000 (10.0/s)    5.0%      93.8 ms        9.7 ms',
        '',
      ].join('\n'),
    );
    expect(formatServiceMap([])).toBe('(no messaging seen)\n');
  });
});

describe('histogramQuantile', () => {
  it("interpolates inside the rank's bucket as Prometheus's histogram_quantile does", () => {
    expect(histogramQuantile(0.95, [0.05, 0.1], [3600, 2400, 0])).toBe(0.09375);
    expect(histogramQuantile(0.5, [1, 2, 4], [0, 10, 10, 0])).toBe(2);
    // The first bucket starts at 0; the +Inf bucket gives the highest finite boundary.
    expect(histogramQuantile(0.5, [0.01, 0.1], [10, 0, 0])).toBe(0.005);
    expect(histogramQuantile(0.95, [0.01, 0.1], [1, 0, 99])).toBe(0.1);
    expect(histogramQuantile(0.95, [0.01, 0.1], [0, 0, 0])).toBeUndefined();
    expect(histogramQuantile(0.95, [0.01, 0.1], [1, 2])).toBeUndefined();
  });
});
