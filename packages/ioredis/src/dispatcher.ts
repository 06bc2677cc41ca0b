import {
  activeContext,
  type MessagingTelemetry,
  type NamedOperation,
  runWithContext,
} from '@baton/core';
import type { Context } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import type { ResolvedConsumerOptions } from './consumer-options.js';
import { type DeadLetterReason, type DeadLetterTarget, moveToDeadLetter } from './dead-letter.js';
import { describeEntry, type ParsedEntry, type StaticDescription, SYSTEM } from './describe.js';
import { StopRequested, type StopSignal } from './stop-signal.js';
import type { ConsumerErrorInfo, StreamEntry } from './types.js';

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/** How the consumer's parts report an error: what failed, and the entry (or batch) concerned. */
export type Report = (
  error: unknown,
  detail: {
    operation: ConsumerErrorInfo['operation'];
    message?: StreamEntry<string | Buffer> | readonly StreamEntry<string | Buffer>[];
  },
) => void;

/**
 * Runs the user's handler over the entries of one read and settles them: `XACK` for the
 * handled ones, the dead-letter stream for those out of deliveries, and the rest left
 * pending. Never throws: every failure goes to `report`.
 */
export class EntryDispatcher {
  private readonly base: StaticDescription;
  private readonly deadLetter: DeadLetterTarget;
  private readonly ackOperation: NamedOperation;

  constructor(
    private readonly client: Redis,
    private readonly telemetry: MessagingTelemetry,
    private readonly options: ResolvedConsumerOptions,
    server: StaticDescription,
    private readonly report: Report,
    private readonly signal: StopSignal,
  ) {
    this.base = { consumerGroup: options.consumerGroup, ...server };
    this.ackOperation = {
      system: SYSTEM,
      destination: options.stream,
      operationName: 'ack',
      ...this.base,
    };
    this.deadLetter = {
      telemetry,
      client,
      stream: options.stream,
      group: options.consumerGroup,
      deadLetterStream: options.deadLetterStream,
      server,
      signal,
    };
  }

  /**
   * Handles `entries`; once `stopping()` turns true no further handler starts, and the
   * entries not started are released (left pending, their delivery not counted).
   */
  async dispatch(entries: readonly ParsedEntry[], stopping: () => boolean): Promise<void> {
    if (entries.length === 0) return;
    const { maxDeliveries } = this.options;
    const live: ParsedEntry[] = [];
    for (const parsed of entries) {
      // Delivered once too often without success (its consumer died, say): give up on it.
      if (parsed.entry.deliveryCount > maxDeliveries) {
        await this.moveToDeadLetter(parsed, 'max-deliveries');
      } else {
        live.push(parsed);
      }
    }
    if (live.length === 0) return;
    if (this.options.eachBatch) return this.handleBatch(live);

    const handled: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < live.length && !stopping()) {
        const parsed = live[next++]!;
        // A handler that returned synchronously is settled at once: no await per entry.
        const outcome = this.handleEntry(parsed);
        if (outcome === true || (outcome !== false && (await outcome))) {
          handled.push(parsed.entry.id);
        }
      }
    };
    const workers = Math.min(this.options.concurrency, live.length);
    if (workers === 1) await worker();
    else await Promise.all(Array.from({ length: workers }, worker));
    await this.ack(handled);
    if (next < live.length) await this.release(live.slice(next));
  }

  /**
   * `XACK`s `ids`, timed as a settle (`messaging.client.operation.duration`, operation
   * `ack`); a failure leaves them pending (they come back: at least once).
   */
  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const startMs = performance.now();
    try {
      await this.signal.race(
        this.client.xack(this.options.stream, this.options.consumerGroup, ...ids),
      );
      this.telemetry.recordOperationDuration('settle', this.ackOperation, startMs);
    } catch (error) {
      // Stopped while Redis is down: the XACK stays queued in ioredis, or the entries come back.
      if (error instanceof StopRequested) return;
      this.telemetry.recordOperationDuration('settle', this.ackOperation, startMs, {
        error,
        failed: true,
      });
      this.report(error, { operation: 'settle' });
    }
  }

  // True or false when the handler settled synchronously, else a promise of it.
  private handleEntry(parsed: ParsedEntry): boolean | PromiseLike<boolean> {
    let processContext: Context | undefined;
    const handler = this.options.eachMessage!;
    let result: unknown;
    try {
      result = this.telemetry.process(describeEntry(parsed, this.base), (ctx) => {
        processContext = ctx;
        return handler(parsed.entry);
      });
    } catch (error) {
      return this.failed(parsed, error, processContext);
    }
    if (!isThenable(result)) return true;
    return result.then(
      () => true,
      (error: unknown) => this.failed(parsed, error, processContext),
    );
  }

  private async failed(
    parsed: ParsedEntry,
    error: unknown,
    processContext: Context | undefined,
  ): Promise<boolean> {
    this.report(error, { operation: 'process', message: parsed.entry });
    if (parsed.entry.deliveryCount >= this.options.maxDeliveries) {
      await this.moveToDeadLetter(parsed, 'handler-failed', error, processContext);
    }
    return false;
  }

  private async handleBatch(entries: readonly ParsedEntry[]): Promise<void> {
    const handler = this.options.eachBatch!;
    const { stream } = this.options;
    // One array: the handler's argument is the batch's native message (hooks, onError).
    const batch = entries.map((parsed) => parsed.entry);
    let batchContext: Context | undefined;
    try {
      await this.telemetry.processBatch(
        { system: SYSTEM, destination: stream, message: batch, ...this.base },
        entries.map((parsed) => describeEntry(parsed, this.base)),
        (scope) => {
          batchContext = activeContext();
          return handler(batch, scope);
        },
      );
    } catch (error) {
      this.report(error, { operation: 'process', message: batch });
      for (const parsed of entries) {
        if (parsed.entry.deliveryCount >= this.options.maxDeliveries) {
          await this.moveToDeadLetter(parsed, 'handler-failed', error, batchContext);
        }
      }
      return;
    }
    await this.ack(entries.map((parsed) => parsed.entry.id));
  }

  /**
   * Hands entries whose handler never started back to the group: idle enough to be
   * claimed at once, and with the delivery that did not happen taken off their count.
   */
  private async release(entries: readonly ParsedEntry[]): Promise<void> {
    const { stream, consumerGroup, consumer, claimIdleMs } = this.options;
    const byCount = new Map<number, string[]>();
    for (const { entry } of entries) {
      const ids = byCount.get(entry.deliveryCount) ?? [];
      ids.push(entry.id);
      byCount.set(entry.deliveryCount, ids);
    }
    for (const [count, ids] of byCount) {
      try {
        const claim = this.client.call(
          'XCLAIM',
          stream,
          consumerGroup,
          consumer,
          0,
          ...ids,
          'IDLE',
          claimIdleMs,
          'RETRYCOUNT',
          count - 1,
          'JUSTID',
        );
        await this.signal.race(claim);
      } catch (error) {
        if (!(error instanceof StopRequested)) this.report(error, { operation: 'release' });
      }
    }
  }

  private async moveToDeadLetter(
    parsed: ParsedEntry,
    reason: DeadLetterReason,
    error?: unknown,
    processContext?: Context,
  ): Promise<void> {
    // Traced under the failed process span, or else in the entry's own trace.
    const ctx = processContext ?? this.telemetry.messageContext(describeEntry(parsed, this.base));
    try {
      await runWithContext(ctx, () => moveToDeadLetter(this.deadLetter, parsed, reason, error));
    } catch (failure) {
      // Still pending: it comes back and is dead-lettered on a later claim.
      if (failure instanceof StopRequested) return;
      this.report(failure, { operation: 'dead-letter', message: parsed.entry });
    }
  }
}
