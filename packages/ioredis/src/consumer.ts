import { type LagMonitor, MessagingTelemetry, runWithContext } from '@baton/core';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { startGroupLagMonitor } from './consumer-lag.js';
import { type ResolvedConsumerOptions, resolveConsumerOptions } from './consumer-options.js';
import { parseEntry, SCOPE, serverOf } from './describe.js';
import { EntryDispatcher } from './dispatcher.js';
import { autoClaimReply, pendingDeliveryCount, readGroupEntries } from './replies.js';
import type {
  ConsumerErrorInfo,
  GroupConsumer,
  GroupConsumerOptions,
  RawStreamEntry,
} from './types.js';

const MAX_BACKOFF_MS = 5000;
const UNBLOCK_RETRY_MS = 50;
const ignore = () => {};

/**
 * A consumer-group runner for one stream: `XREADGROUP` (COUNT, BLOCK) on a dedicated
 * connection, each entry handled in a `process <stream>` span parented to its producer,
 * `XACK` after the handler succeeds, failed entries reclaimed with `XAUTOCLAIM` after
 * `claimIdleMs` and moved to a dead-letter stream after `maxDeliveries`.
 *
 * @example
 * const consumer = createGroupConsumer(redis, {
 *   stream: 'orders',
 *   group: 'billing',
 *   createGroup: true,
 *   eachEntry: async (entry) => bill(entry.fields.orderId),
 * });
 * await consumer.start();
 */
export function createGroupConsumer(redis: Redis, options: GroupConsumerOptions): GroupConsumer {
  return new StreamGroupConsumer(redis, resolveConsumerOptions(options));
}

class StreamGroupConsumer implements GroupConsumer {
  private readonly dispatcher: EntryDispatcher;
  private readonly telemetry: MessagingTelemetry;
  private blocking: Redis | undefined;
  private blockingId: number | undefined;
  private loopDone: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private stopping = false;
  private reading = false;
  private lag: LagMonitor | undefined;
  private claimCursor = '0-0';
  private nextClaimAt = 0;
  private wake: () => void = ignore;

  constructor(
    private readonly client: Redis,
    private readonly options: ResolvedConsumerOptions,
  ) {
    this.telemetry = new MessagingTelemetry(SCOPE, options);
    this.dispatcher = new EntryDispatcher(
      client,
      this.telemetry,
      options,
      serverOf(client),
      (e, i) => this.report(e, i),
    );
  }

  get consumer(): string {
    return this.options.consumer;
  }

  start(): Promise<void> {
    this.started ??= this.startUp().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  private async startUp(): Promise<void> {
    if (this.options.createGroup) await this.createGroup();
    const blocking = this.options.blockingConnection ?? this.client.duplicate();
    this.blocking = blocking;
    // For CLIENT UNBLOCK on stop; a reconnect gives the connection a new id. Without it
    // (say, an ACL that denies CLIENT), stop waits for the read's BLOCK to run out.
    this.blockingId = await blocking.client('ID').catch(() => undefined);
    blocking.on('ready', this.refreshBlockingId);
    this.stopping = false;
    this.claimCursor = '0-0';
    this.nextClaimAt = Date.now() + this.options.claimIdleMs;
    // The loop must not inherit the caller's context: a span active around start() would
    // become a link on every process span, its correlation id everyone's.
    this.loopDone = runWithContext(ROOT_CONTEXT, () => this.loop(blocking));
    const { telemetry, client, options } = this;
    this.lag = startGroupLagMonitor(
      telemetry,
      client,
      options.stream,
      options.group,
      options.lagIntervalMs,
    );
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutDown().finally(() => {
      this.stopped = undefined;
    });
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    await this.started?.catch(() => {});
    const done = this.loopDone;
    const blocking = this.blocking;
    if (!done || !blocking) return;
    this.stopping = true;
    this.wake();
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    // A blocked XREADGROUP returns at once on CLIENT UNBLOCK (as if BLOCK timed out). The
    // read may not have reached Redis yet when the first UNBLOCK does, hence the retries.
    while (!finished) {
      if (this.reading && this.blockingId !== undefined) {
        await this.client.client('UNBLOCK', this.blockingId).catch(ignore);
      }
      await Promise.race([done, delay(UNBLOCK_RETRY_MS)]);
    }
    this.lag?.stop();
    this.lag = undefined;
    blocking.off('ready', this.refreshBlockingId);
    if (!this.options.blockingConnection) await blocking.quit().catch(() => blocking.disconnect());
    this.blocking = undefined;
    this.blockingId = undefined;
    this.loopDone = undefined;
    this.started = undefined;
  }

  private readonly refreshBlockingId = () => {
    this.blocking
      ?.client('ID')
      .then((id) => {
        this.blockingId = id;
      })
      .catch(ignore);
  };

  private async createGroup(): Promise<void> {
    const { stream, group, groupStartId } = this.options;
    try {
      await this.client.xgroup('CREATE', stream, group, groupStartId, 'MKSTREAM');
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return;
      this.report(error, { operation: 'create-group' });
      throw error;
    }
  }

  private async loop(blocking: Redis): Promise<void> {
    // First this consumer's own pending entries (read before a stop or crash and never
    // acknowledged), then new ones; reclaiming idle entries of any consumer in between.
    let ownCursor: string | undefined = '0';
    let failures = 0;
    while (!this.stopping) {
      let operation: ConsumerErrorInfo['operation'] = 'read';
      try {
        if (ownCursor !== undefined) {
          const entries = readGroupEntries(await this.read(blocking, ownCursor, false));
          ownCursor = entries.length > 0 ? entries[entries.length - 1]?.[0] : undefined;
          await this.handleRedelivered(entries);
        } else if (Date.now() >= this.nextClaimAt) {
          operation = 'claim';
          await this.reclaim();
        } else {
          const entries = readGroupEntries(await this.read(blocking, '>', true));
          const { stream } = this.options;
          await this.dispatcher.dispatch(
            entries.map((raw) => parseEntry(stream, raw, 1)),
            () => this.stopping,
          );
        }
        failures = 0;
      } catch (error) {
        if (this.stopping) break;
        this.report(error, { operation });
        failures += 1;
        await this.pause(Math.min(50 * 2 ** failures, MAX_BACKOFF_MS));
      }
    }
  }

  private async read(blocking: Redis, id: string, block: boolean): Promise<unknown> {
    const { stream, group, consumer, count, blockMs } = this.options;
    const args: Array<string | number> = ['GROUP', group, consumer, 'COUNT', count];
    if (block) {
      // Wake up in time for the next reclaim round.
      args.push('BLOCK', Math.max(1, Math.min(blockMs, this.nextClaimAt - Date.now())));
    }
    args.push('STREAMS', stream, id);
    this.reading = block;
    try {
      return await blocking.call('XREADGROUP', ...args);
    } finally {
      this.reading = false;
    }
  }

  /** One `XAUTOCLAIM` call; a full scan of the PEL ends a round. */
  private async reclaim(): Promise<void> {
    const { stream, group, consumer, claimIdleMs, count } = this.options;
    const reply = autoClaimReply(
      await this.client.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        this.claimCursor,
        'COUNT',
        count,
      ),
    );
    this.claimCursor = reply.cursor;
    if (reply.cursor === '0-0') this.nextClaimAt = Date.now() + claimIdleMs;
    await this.handleRedelivered(reply.entries);
  }

  /** Entries delivered before: their delivery count comes from XPENDING. */
  private async handleRedelivered(entries: readonly RawStreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const { stream, group, consumer } = this.options;
    // An entry deleted from the stream while pending has no fields: nothing to handle.
    const deleted = entries.filter(([, fields]) => fields === null).map(([id]) => id);
    await this.dispatcher.ack(deleted);
    const live = entries.filter(([, fields]) => fields !== null);
    const pipeline = this.client.pipeline();
    for (const [id] of live) pipeline.call('XPENDING', stream, group, id, id, 1, consumer);
    const replies = live.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const parsed = [];
    for (let i = 0; i < live.length; i++) {
      const [error, reply] = replies[i] ?? [];
      const count = error ? undefined : pendingDeliveryCount(reply);
      // Not in this consumer's PEL any more: another consumer claimed it meanwhile.
      if (count !== undefined) parsed.push(parseEntry(stream, live[i]!, count));
    }
    await this.dispatcher.dispatch(parsed, () => this.stopping);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private report(
    error: unknown,
    info: { operation: ConsumerErrorInfo['operation']; entryId?: string },
  ): void {
    this.options.onError(error, {
      ...info,
      stream: this.options.stream,
      group: this.options.group,
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
