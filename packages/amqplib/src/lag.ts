import { type LagSample, type MessagingTelemetry, startLagMonitor } from '@baton/core';
import { SYSTEM } from './message.js';
import type { LagChannel, LagConnection } from './types.js';

/** Reads the depth of the consumed queues for `baton.consumer.lag`. */
export interface QueueLagMonitor {
  /** A consumer started (`true`) or stopped (`false`) on `queue`. */
  track(queue: string, active: boolean): void;
  /** Reads now (tests, shutdown). Never rejects. */
  refresh(): Promise<void>;
  /** Stops reading and closes Baton's channel. Idempotent. */
  stop(): void;
}

const NOT_FOUND = 404;

/**
 * Polls `checkQueue` on a channel of Baton's own, never on the application's channel:
 * `checkQueue` on a missing queue makes the broker close the channel (404), which must not
 * take the application's consumers down. That channel's `error` and `close` are handled
 * here; a closed one is reopened on the next read, and a missing queue stops being read.
 */
export function monitorQueueLag(
  telemetry: MessagingTelemetry,
  connection: LagConnection,
  options: { intervalMs: number | undefined; onDepth(queue: string, messages: number): void },
): QueueLagMonitor {
  const { diagnostics } = telemetry;
  const consumers = new Map<string, number>();
  let channel: Promise<LagChannel> | undefined;
  let stopped = false;

  const open = (): Promise<LagChannel> => {
    if (channel) return channel;
    const opening = Promise.resolve(connection.createChannel()).then((ch) => {
      // A 404 (a consumed queue deleted) closes this channel; it is reopened on the next read.
      ch.on('error', (error) => {
        if ((error as { code?: unknown })?.code !== NOT_FOUND) {
          diagnostics.warnOnce('lag channel', error);
        }
      });
      ch.on('close', () => {
        if (channel === opening) channel = undefined;
      });
      return ch;
    });
    opening.catch(() => {
      if (channel === opening) channel = undefined;
    });
    channel = opening;
    return opening;
  };

  const read = async (): Promise<LagSample[]> => {
    const samples: LagSample[] = [];
    for (const queue of [...consumers.keys()]) {
      if (stopped) break;
      let ch: LagChannel;
      try {
        ch = await open();
      } catch (error) {
        // The connection is gone: report no depth rather than a stale one.
        diagnostics.warnOnce('opening the lag channel', error);
        break;
      }
      try {
        const { messageCount } = await ch.checkQueue(queue);
        samples.push({ destination: queue, value: messageCount });
        options.onDepth(queue, messageCount);
      } catch (error) {
        channel = undefined;
        if ((error as { code?: unknown })?.code === NOT_FOUND) consumers.delete(queue);
      }
    }
    return samples;
  };

  const monitor = startLagMonitor(telemetry, {
    system: SYSTEM,
    read,
    ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
  });

  return {
    track(queue, active) {
      const count = (consumers.get(queue) ?? 0) + (active ? 1 : -1);
      if (count > 0) consumers.set(queue, count);
      else consumers.delete(queue);
    },
    refresh: () => monitor.refresh(),
    stop() {
      if (stopped) return;
      stopped = true;
      monitor.stop();
      const closing = channel;
      channel = undefined;
      closing?.then(
        (ch) => Promise.resolve(ch.close()).catch(() => {}),
        () => {},
      );
    },
  };
}
