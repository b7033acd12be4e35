// mqtt: a client keeps its socket and its keepalive ping interval (lib/client.js).
import { libraryRule } from './library.js';

export const mqttRule = libraryRule({
  id: 'mqtt',
  name: 'MQTT client',
  packages: ['mqtt', 'mqtt-packet'],
  problem: () => 'client never ended',
  why: () => 'a connected MQTT client keeps its socket and its keepalive ping interval, and reconnects when the connection drops',
  fix: () => 'await client.endAsync() (client.end() on mqtt < 5) in your SIGTERM handler',
});
