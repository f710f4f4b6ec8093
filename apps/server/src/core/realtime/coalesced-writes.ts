import type { Socket as TcpSocket } from 'node:net';
import type { Server, Socket } from 'socket.io';

/** engine.io's connection under a Socket.io socket (one per client, whatever the namespaces). */
type EngineSocket = Socket['conn'];

/** The TCP socket under a WebSocket transport (ws keeps it as `_socket`); none for HTTP long-polling. */
const tcpSocketOf = (connection: EngineSocket): TcpSocket | undefined => {
  const transport = connection.transport as unknown as { name: string; socket?: { _socket?: TcpSocket } };
  const socket = transport.name === 'websocket' ? transport.socket?._socket : undefined;
  return typeof socket?.cork === 'function' ? socket : undefined;
};

/**
 * Writes what a WebSocket connection is sent during one turn of the event loop in one system call.
 * A chat message gives its sender's socket the acknowledgement and the message's event, often its
 * partner's message too: each was a WebSocket frame of its own, and one `writev` per frame took
 * ~15% of the main thread under chat load (7.5% since; docs/benchmarks.md). The first packet of a
 * turn holds the connection's transport (engine.io then queues the others, in order, as it does
 * while a write is under way); at the end of the turn (setImmediate) the queue goes out as one
 * corked write.
 *
 * Nothing is reordered or dropped: packets keep engine.io's own queue, a close that waits for the
 * queue waits for it, and `releaseAll` sends what is held before the server closes connections
 * without waiting (engine.io's close discards the queue). Only a `volatile` emit (the app has none)
 * is dropped while its connection is held, as Socket.io drops it while a write is under way.
 */
export function coalesceWrites(engine: Server['engine']) {
  const held = new Set<EngineSocket>();

  function release(connection: EngineSocket): void {
    if (!held.delete(connection)) return;
    const { transport } = connection;
    if (connection.readyState === 'closed') return;
    transport.writable = true;
    const socket = tcpSocketOf(connection);
    socket?.cork();
    // engine.io's own flush (private in its types): sends its queue through the transport.
    (connection as unknown as { flush(): void }).flush();
    socket?.uncork();
  }

  engine.on('connection', (connection: EngineSocket) => {
    connection.on('packetCreate', () => {
      // Held already, or a write under way (engine.io queues until it ends): nothing to do.
      if (held.has(connection) || !connection.transport.writable || !tcpSocketOf(connection)) return;
      held.add(connection);
      connection.transport.writable = false;
      setImmediate(() => release(connection));
    });
    connection.once('close', () => held.delete(connection));
  });

  return {
    /** Sends everything held now (before a close that would discard it). */
    releaseAll: () => [...held].forEach(release),
  };
}
