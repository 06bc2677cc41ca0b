import { EventEmitter } from 'node:events';
import { METRIC_CONSUMER_LAG } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LagChannel, type LagConnection, traceChannel } from '../src/index.js';
import { FakeChannel } from './fake-channel.js';

// A connection whose channels answer checkQueue from `depths`; a missing queue makes the
// broker close the channel with a 404, as RabbitMQ does.
class FakeConnection implements LagConnection {
  readonly depths = new Map<string, number>();
  opened = 0;
  checks: string[] = [];
  async createChannel(): Promise<LagChannel> {
    this.opened++;
    const emitter = new EventEmitter();
    let open = true;
    return Object.assign(emitter, {
      checkQueue: async (queue: string) => {
        if (!open) throw new Error('Channel closed');
        this.checks.push(queue);
        const depth = this.depths.get(queue);
        if (depth === undefined) {
          open = false;
          const error = Object.assign(new Error(`NOT_FOUND - no queue '${queue}'`), { code: 404 });
          emitter.emit('error', error);
          emitter.emit('close');
          throw error;
        }
        return { messageCount: depth };
      },
      close: async () => {
        open = false;
        emitter.emit('close');
      },
    });
  }
}

let telemetry: TestTelemetry;
beforeEach(() => {
  telemetry = createTestTelemetry();
});
afterEach(() => telemetry.shutdown());

const lagOf = async (queue: string) =>
  (await telemetry.metricPoints()).find(
    (p) => p.name === METRIC_CONSUMER_LAG && p.attributes['messaging.destination.name'] === queue,
  )?.value;

describe('baton.consumer.lag', () => {
  it('reports the depth of consumed queues, read on a channel of its own', async () => {
    const connection = new FakeConnection();
    connection.depths.set('jobs', 12);
    const raw = new FakeChannel();
    const channel = traceChannel(raw, {
      meterProvider: telemetry.meterProvider,
      lagConnection: connection,
      lagIntervalMs: 10,
    });
    await channel.consume('jobs', () => {});
    await waitFor(async () => (await lagOf('jobs')) === 12);
    connection.depths.set('jobs', 3);
    await waitFor(async () => (await lagOf('jobs')) === 3);
    expect(connection.opened).toBe(1);
  });

  it('stops reading a deleted queue and reopens its channel without touching the app channel', async () => {
    const connection = new FakeConnection();
    connection.depths.set('kept', 1);
    const raw = new FakeChannel();
    const appErrors: unknown[] = [];
    raw.on('error', (error) => appErrors.push(error));
    const channel = traceChannel(raw, {
      meterProvider: telemetry.meterProvider,
      lagConnection: connection,
      lagIntervalMs: 10,
    });
    await channel.consume('gone', () => {});
    await channel.consume('kept', () => {});
    await waitFor(
      () => connection.opened >= 2 && connection.checks.filter((q) => q === 'kept').length >= 2,
    );
    const goneChecks = connection.checks.filter((q) => q === 'gone').length;
    await waitFor(() => connection.checks.filter((q) => q === 'kept').length >= 5);
    expect(connection.checks.filter((q) => q === 'gone').length).toBe(goneChecks);
    expect(await lagOf('kept')).toBe(1);
    expect(appErrors).toEqual([]);
  });

  it('stops when the application channel closes', async () => {
    const connection = new FakeConnection();
    connection.depths.set('jobs', 1);
    connection.depths.set('other', 1);
    const options = {
      meterProvider: telemetry.meterProvider,
      lagConnection: connection,
      lagIntervalMs: 10,
    };
    const raw = new FakeChannel();
    await traceChannel(raw, options).consume('jobs', () => {});
    await waitFor(() => connection.checks.includes('jobs'));
    raw.emit('close');
    const jobsChecks = () => connection.checks.filter((q) => q === 'jobs').length;
    const before = jobsChecks();
    expect(await lagOf('jobs')).toBeUndefined();
    // A second channel's monitor keeps polling: several of its intervals pass meanwhile.
    await traceChannel(new FakeChannel(), options).consume('other', () => {});
    await waitFor(() => connection.checks.filter((q) => q === 'other').length >= 5);
    expect(jobsChecks()).toBeLessThanOrEqual(before + 1); // at most the read in flight
  });
});
