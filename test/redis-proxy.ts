import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis that can lose one reply: armed, it drops the next reply
 * to a blocking `XREADGROUP` (the entries Redis delivered with it never reach the client)
 * and cuts that connection, as a network fault does. Everything else passes through.
 */
export class ReplyDroppingProxy {
  private armed = false;
  private dropped = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<ReplyDroppingProxy> {
    let proxy: ReplyDroppingProxy | undefined;
    const server = createServer((client) => proxy?.pipe(client, target));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    proxy = new ReplyDroppingProxy(server, address.port);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** How many replies were dropped. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Drops the next reply to a blocking XREADGROUP and cuts its connection. */
  arm(): void {
    this.armed = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private pipe(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target.port, target.host);
    this.sockets.add(client).add(upstream);
    let waitingForBlockingRead = false;
    client.on('data', (chunk: Buffer) => {
      const command = chunk.toString('latin1').toLowerCase();
      waitingForBlockingRead = command.includes('xreadgroup') && command.includes('block');
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.armed && waitingForBlockingRead) {
        this.armed = false;
        this.dropped += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      waitingForBlockingRead = false;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }
}
