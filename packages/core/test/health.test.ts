import { describe, expect, it } from 'vitest';
import { checkReadiness, HealthTracker } from '../src/index.js';

describe('checkReadiness', () => {
  const tracker = () => {
    const t = new HealthTracker('redis', 'orders', 'billing');
    t.running = true;
    t.polled(1_000);
    return t;
  };

  it('is ready when every consumer runs, is connected, polls and keeps its backlog under the bound', () => {
    const t = tracker();
    t.lag = 5;
    expect(
      checkReadiness([t.snapshot()], { maxLag: 10, maxPollAgeMs: 500, now: () => 1_200 }),
    ).toMatchObject({
      ready: true,
      reasons: [],
    });
  });

  it('says why it is not ready: stopped, disconnected, lagging, or not polling', () => {
    const stopped = tracker();
    stopped.running = false;
    const offline = tracker();
    offline.connected = false;
    offline.failed(new Error('connect ECONNREFUSED'));
    const lagging = tracker();
    lagging.lag = 50;
    const stale = tracker();
    const now = () => 1_400;
    const options = { maxLag: 10, maxPollAgeMs: 300, now };
    expect(checkReadiness([stopped.snapshot()], options).reasons).toEqual([
      'redis orders (billing): consumer not running',
    ]);
    expect(checkReadiness([offline.snapshot()], options).reasons).toEqual([
      'redis orders (billing): not connected to the broker',
      'redis orders (billing): no successful poll in the last 300 ms',
      'redis orders (billing): last error: Error: connect ECONNREFUSED',
    ]);
    expect(checkReadiness([lagging.snapshot()], { ...options, now: () => 1_100 }).reasons).toEqual([
      'redis orders (billing): lag 50 above 10',
    ]);
    expect(checkReadiness([stale.snapshot()], options).reasons).toEqual([
      'redis orders (billing): no successful poll in the last 300 ms',
    ]);
    expect(checkReadiness([stale.snapshot(), lagging.snapshot()], options).ready).toBe(false);
  });
});
