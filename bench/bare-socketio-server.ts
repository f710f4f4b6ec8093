// The realtime baseline: a bare Socket.io server that does what Lyceum's chat does on the wire, and
// nothing else (no authentication, no storage): a socket joins the rooms its handshake names;
// `chat:send` is broadcast to the conversation's room as `chat:message` and acknowledged.
import http from 'node:http';
import { Server } from 'socket.io';

const server = http.createServer();
const io = new Server(server, { path: '/socket.io', serveClient: false });
let seq = 0;
io.on('connection', (socket) => {
  const rooms = Array.isArray(socket.handshake.auth?.rooms) ? (socket.handshake.auth.rooms as string[]) : [];
  for (const room of rooms) void socket.join(room);
  socket.emit('realtime:ready', { rooms });
  socket.on('chat:send', (input: { conversationId: string; body: string; clientMessageId: string }, ack: (answer: object) => void) => {
    const payload = { ...input, seq: ++seq, senderId: socket.id, createdAt: new Date().toISOString() };
    io.to(`conversation:${input.conversationId}`).emit('chat:message', { seq, type: 'chat.message.created', payload });
    ack({ ok: true, message: payload });
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
