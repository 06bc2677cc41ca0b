import { type ConsumerHealth, HealthTracker } from '@baton/core';
import { SYSTEM } from './message.js';

interface Consumed {
  tracker: HealthTracker;
  /** Consumers on this queue that were started and not yet cancelled. */
  consumers: number;
}

/**
 * The health of one traced channel's consumers, one {@link HealthTracker} per consumed
 * queue, updated from the channel's own events. AMQP pushes deliveries, so a delivery (or
 * a successful `get`) is the "poll"; an idle queue has an old `lastPollAtMs` and is still
 * healthy (leave `maxPollAgeMs` unset for AMQP consumers).
 */
export class ChannelHealth {
  private readonly queues = new Map<string, Consumed>();
  private open = true;

  /** A consumer started on `queue`. */
  started(queue: string): void {
    let consumed = this.queues.get(queue);
    if (consumed === undefined) {
      consumed = { tracker: new HealthTracker(SYSTEM, queue), consumers: 0 };
      this.queues.set(queue, consumed);
    }
    consumed.consumers++;
    consumed.tracker.running = this.open;
    consumed.tracker.connected = this.open;
  }

  /**
   * A consumer on `queue` stopped. Cancelled by the application (or never started): the
   * queue is no longer consumed and drops out once it has no consumer left. Cancelled by
   * the broker (queue deleted, node down): it stays, not running, with the reason.
   */
  stopped(queue: string, byBroker: boolean): void {
    const consumed = this.queues.get(queue);
    if (consumed === undefined) return;
    consumed.consumers = Math.max(0, consumed.consumers - 1);
    if (consumed.consumers > 0) return;
    if (!byBroker) {
      this.queues.delete(queue);
      return;
    }
    consumed.tracker.running = false;
    consumed.tracker.failed('the broker cancelled the consumer (queue deleted or unavailable)');
  }

  /** A delivery came, or a `get` returned, from `queue`. */
  polled(queue: string): void {
    if (this.open) this.queues.get(queue)?.tracker.polled();
  }

  /** The lag monitor's latest depth of `queue`. */
  depth(queue: string, messages: number): void {
    const consumed = this.queues.get(queue);
    if (consumed !== undefined) consumed.tracker.lag = messages;
  }

  /** The channel closed; `error` when its connection closed with one. */
  closed(error?: unknown): void {
    this.open = false;
    for (const { tracker } of this.queues.values()) {
      tracker.running = false;
      tracker.connected = false;
      if (error !== undefined) tracker.failed(error);
      else tracker.lastError ??= 'the channel closed';
    }
  }

  snapshot(): ConsumerHealth[] {
    return [...this.queues.values()].map(({ tracker }) => tracker.snapshot());
  }
}
