import { createServer, type Server as HttpServer } from 'node:http';
import type { Socket as TcpSocket } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesced-writes.js';

/** A Socket.io server with coalesced writes, one client connected over WebSocket, and the server side of that connection. */
async function connected() {
  const http: HttpServer = createServer();
  const io = new Server(http, { serveClient: false });
  const writes = coalesceWrites(io.engine);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const serverSide = new Promise<Socket>((resolve) => io.once('connection', resolve));
  const client = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  const socket = await serverSide;
  await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
  return { http, io, writes, client, socket };
}

/** Counts the writes that reach the TCP socket under a server-side Socket.io socket (each is one system call). */
function countWrites(socket: Socket): { count: number } {
  const tcp = (socket.conn.transport as unknown as { socket: { _socket: TcpSocket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void } } }).socket._socket;
  const counter = { count: 0 };
  for (const method of ['_write', '_writev'] as const) {
    const original = tcp[method].bind(tcp);
    tcp[method] = (...args: unknown[]) => {
      counter.count++;
      original(...args);
    };
  }
  return counter;
}

const received = (client: ClientSocket, count: number) =>
  new Promise<string[]>((resolve) => {
    const names: string[] = [];
    client.onAny((name: string) => {
      names.push(name);
      if (names.length === count) resolve(names);
    });
  });

describe('coalesced writes', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const track = (setup: Awaited<ReturnType<typeof connected>>) => {
    cleanups.push(async () => {
      setup.client.close();
      await setup.io.close();
    });
    return setup;
  };

  it('sends what a socket is given in one turn of the event loop in one write, in order', async () => {
    const { client, socket } = track(await connected());
    const writes = countWrites(socket);
    const arrived = received(client, 3);
    socket.emit('first');
    socket.emit('second');
    socket.emit('third');
    expect(await arrived).toEqual(['first', 'second', 'third']);
    expect(writes.count).toBe(1);
  });

  it('lets a graceful disconnect deliver what the socket was given in its last turn', async () => {
    const { client, socket } = track(await connected());
    const last = new Promise<string>((resolve) => client.once('last', () => resolve('last')));
    const closed = new Promise<string>((resolve) => client.once('disconnect', (reason) => resolve(reason)));
    socket.emit('last');
    socket.disconnect(true);
    expect(await last).toBe('last');
    expect(await closed).toBe('io server disconnect');
  });

  it('releaseAll sends what is held before the server closes connections without waiting', async () => {
    const { io, writes, client, socket } = track(await connected());
    const last = new Promise<boolean>((resolve) => {
      client.once('goodbye', () => resolve(true));
      client.once('disconnect', () => setTimeout(() => resolve(false), 50));
    });
    socket.emit('goodbye');
    writes.releaseAll();
    io.engine.close();
    expect(await last).toBe(true);
  });
});
