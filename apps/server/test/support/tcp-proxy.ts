// A TCP forwarder in a process of its own, so that a test can freeze it (SIGSTOP) to make a
// database or Redis look stalled to the server, without touching the shared service itself.
// Usage: node --import tsx tcp-proxy.ts <host> <port>; prints "PORT <n>" when listening.
import net from 'node:net';

const [host, port] = [process.argv[2]!, Number(process.argv[3])];
const server = net.createServer((client) => {
  const upstream = net.connect(port, host);
  client.pipe(upstream).on('error', () => undefined);
  upstream.pipe(client).on('error', () => undefined);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${(server.address() as net.AddressInfo).port}\n`));
