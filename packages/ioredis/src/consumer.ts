import {
  type ConsumerHealth,
  HealthTracker,
  type LagMonitor,
  MessagingTelemetry,
  registerHealth,
  runWithContext,
} from '@baton/core';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { BlockingConnection } from './blocking-connection.js';
import { startGroupLagMonitor } from './consumer-lag.js';
import {
  checkRequiredOptions,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
} from './consumer-options.js';
import { SCOPE, SYSTEM, serverOf } from './describe.js';
import { EntryDispatcher, type Report } from './dispatcher.js';
import { ReadLoop } from './read-loop.js';
import { StopSignal } from './stop-signal.js';
import type { FieldEncoding, StreamConsumer, StreamConsumerOptions } from './types.js';

const UNBLOCK_RETRY_MS = 50;
// CLIENT UNBLOCK may reach Redis before the read does, hence retries; after this many,
// stop() stops waiting for the read (and closes the connection when it is the consumer's).
const MAX_UNBLOCK_ATTEMPTS = 10;
const ignore = () => {};

/**
 * A consumer-group runner for one stream (Redis Streams have no consume loop of their
 * own): `XREADGROUP` (COUNT, BLOCK) on a dedicated connection, each entry handled in a
 * `process <stream>` span parented to its producer, `XACK` after the handler succeeds,
 * failed entries reclaimed with `XAUTOCLAIM` after `claimIdleMs` and moved to a
 * dead-letter stream after `maxDeliveries`. Payload fields reach the handler as Buffers
 * (the exact bytes) unless `fieldEncoding: 'utf8'`. `healthOf(consumer)` tells its health.
 *
 * @example
 * const consumer = createConsumer(redis, {
 *   stream: 'orders',
 *   consumerGroup: 'billing',
 *   createGroup: true,
 *   eachMessage: async (entry) => bill(entry.fields.orderId?.toString()),
 * });
 * await consumer.start();
 */
export function createConsumer<E extends FieldEncoding = 'buffer'>(
  client: Redis,
  options: StreamConsumerOptions<E>,
): StreamConsumer {
  checkRequiredOptions(options);
  const telemetry = new MessagingTelemetry(SCOPE, options);
  const consumer = new GroupRunner(
    client,
    telemetry,
    resolveConsumerOptions(options, telemetry.diagnostics),
  );
  registerHealth(consumer, () => [consumer.health()]);
  return consumer;
}

class GroupRunner implements StreamConsumer {
  private readonly dispatcher: EntryDispatcher;
  private readonly signal = new StopSignal();
  private readonly tracker: HealthTracker;
  private connection: BlockingConnection | undefined;
  private loop: ReadLoop | undefined;
  private loopDone: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private stopping = false;
  private lag: LagMonitor | undefined;

  constructor(
    private readonly client: Redis,
    private readonly telemetry: MessagingTelemetry,
    private readonly options: ResolvedConsumerOptions,
  ) {
    this.tracker = new HealthTracker(SYSTEM, options.stream, options.consumerGroup);
    this.dispatcher = new EntryDispatcher(
      client,
      telemetry,
      options,
      serverOf(client),
      this.report,
      this.signal,
    );
  }

  get consumer(): string {
    return this.options.consumer;
  }

  health(): ConsumerHealth {
    this.tracker.connected = this.client.status === 'ready' && this.connection?.ready === true;
    return this.tracker.snapshot();
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
      (error) => this.report(error, { operation: 'receive' }),
    );
    const loop = new ReadLoop({
      client: this.client,
      connection,
      options: this.options,
      dispatcher: this.dispatcher,
      signal: this.signal,
      report: this.report,
      stopping: () => this.stopping,
      polled: () => this.tracker.polled(),
      diagnostics: this.telemetry.diagnostics,
    });
    this.connection = connection;
    this.loop = loop;
    this.tracker.running = true;
    // The loop must not inherit the caller's context: a span active around start() would
    // become a link on every process span, its correlation id everyone's.
    this.loopDone = runWithContext(ROOT_CONTEXT, () => loop.run());
    const { stream, consumerGroup, lagIntervalMs } = this.options;
    this.lag = startGroupLagMonitor(
      this.telemetry,
      this.client,
      stream,
      consumerGroup,
      lagIntervalMs,
      (lag) => {
        this.tracker.lag = lag;
      },
    );
  }

  stop(): Promise<void> {
    this.tracker.running = false;
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
    this.tracker.running = false;
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
    this.tracker.lag = undefined;
    connection.close();
    this.connection = undefined;
    this.loop = undefined;
    this.loopDone = undefined;
    this.started = undefined;
  }

  private async createGroup(): Promise<void> {
    const { stream, consumerGroup, groupStartId } = this.options;
    try {
      await this.client.xgroup('CREATE', stream, consumerGroup, groupStartId, 'MKSTREAM');
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return;
      this.report(error, { operation: 'create-group' });
      throw error;
    }
  }

  private readonly report: Report = (error, { operation, message }) => {
    const { stream, consumerGroup } = this.options;
    this.tracker.failed(error);
    const first = Array.isArray(message) ? message[0] : message;
    this.telemetry.reportError(error, {
      operation,
      destination: stream,
      consumerGroup,
      ...(message !== undefined && { message }),
      ...(first !== undefined && { entryId: first.id }),
      ...(first !== undefined && first === message && { deliveryCount: first.deliveryCount }),
      stream,
      group: consumerGroup,
    });
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
