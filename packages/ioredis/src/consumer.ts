import { type LagMonitor, MessagingTelemetry, runWithContext } from '@baton/core';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { BlockingConnection } from './blocking-connection.js';
import { startGroupLagMonitor } from './consumer-lag.js';
import { type ResolvedConsumerOptions, resolveConsumerOptions } from './consumer-options.js';
import { SCOPE, serverOf } from './describe.js';
import { EntryDispatcher } from './dispatcher.js';
import { ReadLoop } from './read-loop.js';
import { StopSignal } from './stop-signal.js';
import type {
  ConsumerErrorInfo,
  FieldEncoding,
  GroupConsumer,
  GroupConsumerOptions,
} from './types.js';

const UNBLOCK_RETRY_MS = 50;
// CLIENT UNBLOCK may reach Redis before the read does, hence retries; after this many,
// stop() stops waiting for the read (and closes the connection when it is the runner's).
const MAX_UNBLOCK_ATTEMPTS = 10;
const ignore = () => {};

/**
 * A consumer-group runner for one stream: `XREADGROUP` (COUNT, BLOCK) on a dedicated
 * connection, each entry handled in a `process <stream>` span parented to its producer,
 * `XACK` after the handler succeeds, failed entries reclaimed with `XAUTOCLAIM` after
 * `claimIdleMs` and moved to a dead-letter stream after `maxDeliveries`. Payload fields
 * reach the handler as Buffers (the exact bytes) unless `fieldEncoding: 'utf8'`.
 *
 * @example
 * const consumer = createGroupConsumer(redis, {
 *   stream: 'orders',
 *   group: 'billing',
 *   createGroup: true,
 *   eachEntry: async (entry) => bill(entry.fields.orderId.toString()),
 * });
 * await consumer.start();
 */
export function createGroupConsumer<E extends FieldEncoding = 'buffer'>(
  redis: Redis,
  options: GroupConsumerOptions<E>,
): GroupConsumer {
  return new StreamGroupConsumer(redis, resolveConsumerOptions(options));
}

class StreamGroupConsumer implements GroupConsumer {
  private readonly dispatcher: EntryDispatcher;
  private readonly telemetry: MessagingTelemetry;
  private readonly signal = new StopSignal();
  private connection: BlockingConnection | undefined;
  private loop: ReadLoop | undefined;
  private loopDone: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private stopping = false;
  private lag: LagMonitor | undefined;

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
      this.signal,
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
    this.signal.reset();
    this.stopping = false;
    const connection = new BlockingConnection(
      this.client,
      this.options.blockingConnection,
      (error) => this.report(error, { operation: 'read' }),
    );
    const loop = new ReadLoop({
      client: this.client,
      connection,
      options: this.options,
      dispatcher: this.dispatcher,
      signal: this.signal,
      report: (e, i) => this.report(e, i),
      stopping: () => this.stopping,
    });
    this.connection = connection;
    this.loop = loop;
    // The loop must not inherit the caller's context: a span active around start() would
    // become a link on every process span, its correlation id everyone's.
    this.loopDone = runWithContext(ROOT_CONTEXT, () => loop.run());
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
    await this.started?.catch(ignore);
    const { loopDone: done, connection, loop } = this;
    if (!done || !connection || !loop) return;
    this.stopping = true;
    loop.interrupt();
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    let unblocks = 0;
    while (!finished) {
      if (this.client.status !== 'ready' || !connection.ready) {
        // Redis (or the way to it) is down: nothing it would answer is worth waiting for,
        // and CLIENT UNBLOCK cannot get through. The handlers in flight still finish.
        this.signal.fire();
      } else if (loop.reading) {
        // A blocked XREADGROUP returns at once on CLIENT UNBLOCK (as if BLOCK timed out),
        // and the entries of a reply in flight are handed back to the group.
        const id = connection.id;
        if (id !== undefined && unblocks < MAX_UNBLOCK_ATTEMPTS) {
          unblocks += 1;
          this.client.client('UNBLOCK', id).catch(ignore);
        } else {
          this.signal.fire();
        }
      }
      await Promise.race([done, delay(UNBLOCK_RETRY_MS)]);
    }
    this.lag?.stop();
    this.lag = undefined;
    connection.close();
    this.connection = undefined;
    this.loop = undefined;
    this.loopDone = undefined;
    this.started = undefined;
  }

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
