import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { BlockingConnection, ConnectionLost } from '../src/blocking-connection.js';

// A user-given connection: only what BlockingConnection touches.
function fakeConnection() {
  return Object.assign(new EventEmitter(), {
    status: 'ready',
    client: async () => 7,
  });
}

describe('the blocking connection', () => {
  it('reports an outage when the connection closes with no read in flight, once per outage', () => {
    const given = fakeConnection();
    const reports: unknown[] = [];
    const connection = new BlockingConnection({} as never, given as never, (error) =>
      reports.push(error),
    );
    given.status = 'reconnecting';
    given.emit('close');
    given.emit('close'); // a failed reconnect attempt closes again: the same outage
    expect(reports).toHaveLength(1);
    expect(reports[0]).toBeInstanceOf(ConnectionLost);
    expect(connection.closeCount).toBe(2);
    connection.recovered();
    given.emit('close');
    expect(reports).toHaveLength(2);
    connection.close();
    given.emit('close'); // closed by the runner itself: not an outage
    expect(reports).toHaveLength(2);
  });
});
