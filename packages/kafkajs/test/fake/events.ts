// kafkajs's consumer instrumentation events, as the fake consumer emits them.

export const CONSUMER_EVENTS = Object.freeze({
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  REQUEST: 'consumer.network.request',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
});

const API_KEYS: Record<string, number> = { Fetch: 1, OffsetCommit: 8, Heartbeat: 12 };

type Listener = (event: { id: number; type: string; timestamp: number; payload: unknown }) => void;

/** `consumer.on` / `consumer.events`, and the network REQUEST event kafkajs emits per request. */
export class FakeEventEmitter {
  readonly events = CONSUMER_EVENTS;
  /** What the REQUEST events report, in ms. */
  readonly requestTiming = { pendingDuration: 1, duration: 3 };
  private readonly listeners = new Map<string, Set<Listener>>();
  private eventId = 0;
  private correlationId = 0;

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  emit(type: string, payload: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) {
      listener({ id: this.eventId++, type, timestamp: Date.now(), payload });
    }
  }

  /** kafkajs emits REQUEST when a response arrives (also one carrying an error code). */
  emitRequest(apiName: string, broker: string): void {
    if (this.listenerCount(CONSUMER_EVENTS.REQUEST) === 0) return;
    const { pendingDuration, duration } = this.requestTiming;
    const now = Date.now();
    this.emit(CONSUMER_EVENTS.REQUEST, {
      broker,
      clientId: 'fake-client',
      correlationId: this.correlationId++,
      size: 64,
      createdAt: now - pendingDuration - duration,
      sentAt: now - duration,
      pendingDuration,
      duration,
      apiName,
      apiKey: API_KEYS[apiName],
      apiVersion: 1,
    });
  }
}
