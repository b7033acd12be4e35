// A relay started INSIDE a target's network namespace (`nsenter -t <pid> -n node netns-relay.js
// <socket> <port>`): 127.0.0.1:<port> there is the target's own loopback, not ours. It listens
// on a Unix socket in reload-doctor's private directory (the mount namespace is ours) and
// pipes each connection to the inspector port. It ends with reload-doctor: stdin closes.
import net from 'node:net';

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: netns-relay <unix socket path> <port>\n');
  process.exit(2);
}

const server = net.createServer((client) => {
  const upstream = net.connect(port, '127.0.0.1');
  client.pipe(upstream).pipe(client);
  upstream.on('error', (error) => {
    process.stderr.write(`netns-relay: 127.0.0.1:${port}: ${error.message}\n`);
    client.destroy();
  });
  client.on('error', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
});
server.on('error', (error) => {
  process.stderr.write(`netns-relay: ${error.message}\n`);
  process.exit(1);
});
server.listen(socketPath, () => process.stdout.write('ready\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
