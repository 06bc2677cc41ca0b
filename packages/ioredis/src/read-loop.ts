import type { Diagnostics } from '@baton/core';
import type { Redis } from 'ioredis';
import { type BlockingConnection, ConnectionLost } from './blocking-connection.js';
import type { ResolvedConsumerOptions } from './consumer-options.js';
import { type ParsedEntry, parseEntry } from './describe.js';
import type { EntryDispatcher, Report } from './dispatcher.js';
import {
  autoClaimReply,
  compareEntryIds,
  pendingDeliveryCount,
  type RawEntry,
  readGroupEntries,
  withBufferCommands,
} from './replies.js';
import type { StopSignal } from './stop-signal.js';
import type { ConsumerErrorInfo } from './types.js';

const MAX_BACKOFF_MS = 5000;
const ignore = () => {};

/** What one run of the read loop works with. */
export interface ReadLoopParts {
  client: Redis;
  connection: BlockingConnection;
  options: ResolvedConsumerOptions;
  dispatcher: EntryDispatcher;
  signal: StopSignal;
  report: Report;
  stopping: () => boolean;
  /** A read returned (entries or not): for the consumer's health. */
  polled: () => void;
  diagnostics: Diagnostics;
}

/** Entries a read whose reply was lost delivered: pending, never seen by this consumer. */
interface LostReplies {
  /** Ids above this one were never received (undefined: no entry was received yet). */
  above: string | undefined;
}

const isNoGroup = (error: unknown) => error instanceof Error && error.message.startsWith('NOGROUP');

/**
 * The read loop of one started consumer: this consumer's own pending entries first (read
 * before a stop, a crash, or a lost reply, and never acknowledged), then new ones, with
 * `XAUTOCLAIM` rounds for idle entries of any consumer in between. It survives Redis
 * going away: it waits for the connection, re-reads its own pending entries after a
 * reconnect, and recreates a group that Redis lost when `createGroup` is on.
 */
export class ReadLoop {
  /** True while a blocking `XREADGROUP` is in flight (`CLIENT UNBLOCK` can end it). */
  reading = false;
  private claimCursor = '0-0';
  private nextClaimAt: number;
  /** The highest id received from reads of new entries or of this consumer's own. */
  private seenMax: string | undefined;
  private closesSeen: number;
  private groupMissingReported = false;
  private wake: () => void = ignore;

  constructor(private readonly parts: ReadLoopParts) {
    this.nextClaimAt = Date.now() + parts.options.claimIdleMs;
    this.closesSeen = parts.connection.closeCount;
  }

  /** Ends a backoff pause at once (on stop). */
  interrupt(): void {
    this.wake();
  }

  async run(): Promise<void> {
    const { connection, signal, stopping, options, dispatcher } = this.parts;
    let ownCursor: string | undefined = '0';
    let lost: LostReplies | undefined;
    let failures = 0;
    while (!stopping()) {
      let operation: ConsumerErrorInfo['operation'] = 'receive';
      try {
        await signal.race(connection.whenReady());
        if (connection.closeCount !== this.closesSeen) {
          // The connection closed since the last look: the reply of a read in flight may be
          // lost, and the entries Redis delivered with it wait in this consumer's pending
          // list (for XAUTOCLAIM, 15-60 s later). Read them again now.
          this.closesSeen = connection.closeCount;
          ownCursor = '0';
          lost = { above: this.seenMax };
        }
        if (ownCursor !== undefined) {
          const entries = readGroupEntries(await this.read(ownCursor, false));
          ownCursor = entries.at(-1)?.[0];
          await this.handleRedelivered(entries, lost);
          this.see(entries);
          if (ownCursor === undefined) lost = undefined;
        } else if (Date.now() >= this.nextClaimAt) {
          operation = 'claim';
          await this.reclaim();
        } else {
          const entries = readGroupEntries(await this.read('>', true));
          this.see(entries);
          const { stream, fieldEncoding } = options;
          await dispatcher.dispatch(
            entries.map((raw) => parseEntry(stream, raw, 1, fieldEncoding)),
            stopping,
          );
        }
        failures = 0;
        this.groupMissingReported = false;
        connection.recovered();
      } catch (error) {
        if (stopping()) break;
        failures += 1;
        if (isNoGroup(error)) await this.recreateGroup(error, operation);
        else if (this.isOutage(error)) connection.outage(error);
        else this.parts.report(error, { operation });
        await this.pause(Math.min(50 * 2 ** failures, MAX_BACKOFF_MS));
      }
    }
  }

  private isOutage(error: unknown): boolean {
    const { connection, client } = this.parts;
    return error instanceof ConnectionLost || !connection.ready || client.status !== 'ready';
  }

  private see(entries: readonly RawEntry[]): void {
    const last = entries.at(-1)?.[0];
    if (last === undefined) return;
    if (this.seenMax === undefined || compareEntryIds(last, this.seenMax) > 0) this.seenMax = last;
  }

  private async read(id: string, block: boolean): Promise<unknown> {
    const { stream, consumerGroup, consumer, count, blockMs } = this.parts.options;
    const args: Array<string | number> = ['GROUP', consumerGroup, consumer, 'COUNT', count];
    if (block) {
      // Wake up in time for the next reclaim round.
      args.push('BLOCK', Math.max(1, Math.min(blockMs, this.nextClaimAt - Date.now())));
    }
    args.push('STREAMS', stream, id);
    this.reading = block;
    try {
      const reply = await this.parts.signal.race(this.parts.connection.read(args));
      this.parts.polled();
      return reply;
    } finally {
      this.reading = false;
    }
  }

  /** One `XAUTOCLAIM` call; a full scan of the PEL ends a round. */
  private async reclaim(): Promise<void> {
    const { client, options, signal } = this.parts;
    const { stream, consumerGroup, consumer, claimIdleMs, count } = options;
    const reply = autoClaimReply(
      await signal.race(
        withBufferCommands(client).xautoclaimBuffer(
          stream,
          consumerGroup,
          consumer,
          claimIdleMs,
          this.claimCursor,
          'COUNT',
          count,
        ),
      ),
    );
    this.claimCursor = reply.cursor;
    if (reply.cursor === '0-0') this.nextClaimAt = Date.now() + claimIdleMs;
    await this.handleRedelivered(reply.entries);
  }

  /**
   * Entries delivered before: their delivery count comes from XPENDING. After a reconnect,
   * an entry this consumer never received and Redis delivered once before this re-read was
   * in a lost reply: that delivery did not reach a handler, so it is taken off its count.
   */
  private async handleRedelivered(entries: readonly RawEntry[], lost?: LostReplies): Promise<void> {
    if (entries.length === 0) return;
    const { client, options, signal, dispatcher, stopping } = this.parts;
    const { stream, consumerGroup, consumer, fieldEncoding } = options;
    // An entry deleted from the stream while pending has no fields: nothing to handle.
    const deleted = entries.filter(([, fields]) => fields === null).map(([id]) => id);
    await dispatcher.ack(deleted);
    const live = entries.filter(([, fields]) => fields !== null);
    const pipeline = client.pipeline();
    for (const [id] of live) pipeline.call('XPENDING', stream, consumerGroup, id, id, 1, consumer);
    const replies = live.length > 0 ? ((await signal.race(pipeline.exec())) ?? []) : [];
    const parsed: ParsedEntry[] = [];
    const uncounted: string[] = [];
    for (let i = 0; i < live.length; i++) {
      const [error, reply] = replies[i] ?? [];
      let count = error ? undefined : pendingDeliveryCount(reply);
      // Not in this consumer's PEL any more: another consumer claimed it meanwhile.
      if (count === undefined) continue;
      const [id] = live[i]!;
      if (
        lost &&
        count === 2 &&
        (lost.above === undefined || compareEntryIds(id, lost.above) > 0)
      ) {
        count = 1;
        uncounted.push(id);
      }
      parsed.push(parseEntry(stream, live[i]!, count, fieldEncoding));
    }
    if (uncounted.length > 0) {
      const claim = client.call(
        'XCLAIM',
        stream,
        consumerGroup,
        consumer,
        0,
        ...uncounted,
        'RETRYCOUNT',
        1,
        'JUSTID',
      );
      await signal.race(claim);
    }
    await dispatcher.dispatch(parsed, stopping);
  }

  /**
   * NOGROUP: the group is gone (deleted, or lost with Redis's memory in a restart without
   * persistence or a failover; sends since then recreated the stream without it). With
   * `createGroup` it is created again after the last entry this consumer read, so that no
   * entry added since is skipped; without, that is reported once.
   */
  private async recreateGroup(
    error: unknown,
    operation: ConsumerErrorInfo['operation'],
  ): Promise<void> {
    const { client, options, signal, report, diagnostics } = this.parts;
    const { stream, consumerGroup: group } = options;
    if (!options.createGroup) {
      if (this.groupMissingReported) return;
      this.groupMissingReported = true;
      const message =
        `@baton/ioredis: consumer group ${group} of stream ${stream} does not exist (NOGROUP): ` +
        'it was deleted, or Redis lost it (a restart without persistence, a failover). ' +
        'The consumer retries until it exists again; createGroup: true recreates it.';
      report(new Error(message, { cause: error }), { operation });
      return;
    }
    const startId = this.seenMax ?? '0';
    try {
      await signal.race(client.xgroup('CREATE', stream, group, startId, 'MKSTREAM'));
    } catch (failure) {
      if (failure instanceof Error && failure.message.startsWith('BUSYGROUP')) return;
      report(failure, { operation: 'create-group' });
      return;
    }
    // Once per group: a group that keeps vanishing is the operator's to look into.
    diagnostics.reportOnce(
      `group recreated ${stream} ${group}`,
      `consumer group ${group} of stream ${stream} was missing (NOGROUP); recreated it to read the entries after`,
      startId,
    );
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
}
