// What some process tests need from the machine besides Node: real servers on their standard
// loopback ports, Python, uWSGI, root, namespaces, the other Node majors and runtimes.
// `.ci/run` provides all of it; on a machine without one, the tests that need it are skipped
// with the reason, never failed.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const RUNTIMES = fileURLToPath(new URL('../../.cache/runtimes/', import.meta.url));

/** Where scripts/fetch-runtimes.sh put each runtime's executable. */
export const RUNTIME_PATHS = {
  node18: `${RUNTIMES}node18/bin/node`,
  node22: `${RUNTIMES}node22/bin/node`,
  node24: `${RUNTIMES}node24/bin/node`,
  node26: `${RUNTIMES}node26/bin/node`,
  deno: `${RUNTIMES}deno/deno`,
  bun: `${RUNTIMES}bun/bin/bun`,
} as const;

/** Every supported Node line as a target: [name, what it needs, its binary] (this machine's is 20). */
export const NODE_MAJORS: Array<[string, Need | undefined, string]> = [
  ['18', 'node18', RUNTIME_PATHS.node18],
  ['20 (this machine\'s)', undefined, process.execPath],
  ['22', 'node22', RUNTIME_PATHS.node22],
  ['24', 'node24', RUNTIME_PATHS.node24],
  ['26', 'node26', RUNTIME_PATHS.node26],
];

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', timeout: 1000 }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => { socket.destroy(); resolve(false); });
  });
}

const WHAT = {
  redis: 'a Redis server on 127.0.0.1:6379',
  postgres: 'a PostgreSQL server on 127.0.0.1:5432 (trust auth, database test)',
  mariadb: 'a MariaDB server on 127.0.0.1:3306 (root, empty password, database test)',
  rabbitmq: 'a RabbitMQ server on 127.0.0.1:5672 (guest/guest)',
  python: '/usr/bin/python3',
  nats: 'nats-server (Debian package nats-server), started by the test on a free port',
  mosquitto: 'mosquitto (Debian package mosquitto), started by the test on a free port',
  chromium: '/usr/bin/chromium (Debian package chromium), to open the HTML report headless',
  uwsgi: 'uWSGI with the python3 and gevent_python3 plugins, python3-gevent and python3-pymongo',
  gdb: 'root and gdb (Debian package gdb), for --py-stacks',
  apscheduler: 'python3-apscheduler (Debian)',
  kombu: 'python3-kombu (Debian) and a RabbitMQ server on 127.0.0.1:5672',
  root: 'root and /usr/sbin/runuser (to act as another user)',
  namespaces: 'root, unshare, nsenter and ip (util-linux, iproute2): to build "containers"',
  node18: 'Node 18 in .cache/runtimes (scripts/fetch-runtimes.sh)',
  node22: 'Node 22 in .cache/runtimes (scripts/fetch-runtimes.sh)',
  node24: 'Node 24 in .cache/runtimes (scripts/fetch-runtimes.sh)',
  node26: 'Node 26 in .cache/runtimes (scripts/fetch-runtimes.sh)',
  deno: 'Deno in .cache/runtimes (scripts/fetch-runtimes.sh)',
  bun: 'Bun in .cache/runtimes (scripts/fetch-runtimes.sh)',
} as const;

export type Need = keyof typeof WHAT;

const [redis, postgres, mariadb, rabbitmq] = await Promise.all([6379, 5432, 3306, 5672].map(reachable));
const available: Record<Need, boolean> = {
  redis, postgres, mariadb, rabbitmq,
  python: existsSync('/usr/bin/python3'),
  nats: existsSync('/usr/sbin/nats-server'),
  mosquitto: existsSync('/usr/sbin/mosquitto'),
  chromium: existsSync('/usr/bin/chromium'),
  uwsgi: existsSync('/usr/bin/uwsgi') && existsSync('/usr/lib/uwsgi/plugins/gevent_python3_plugin.so'),
  root: process.getuid?.() === 0 && existsSync('/usr/sbin/runuser'),
  gdb: process.getuid?.() === 0 && existsSync('/usr/bin/gdb'),
  apscheduler: existsSync('/usr/lib/python3/dist-packages/apscheduler'),
  kombu: rabbitmq && existsSync('/usr/lib/python3/dist-packages/kombu'),
  namespaces: process.getuid?.() === 0 && ['/usr/bin/unshare', '/usr/bin/nsenter', '/usr/sbin/ip'].every((tool) => existsSync(tool)),
  node18: existsSync(RUNTIME_PATHS.node18),
  node22: existsSync(RUNTIME_PATHS.node22),
  node24: existsSync(RUNTIME_PATHS.node24),
  node26: existsSync(RUNTIME_PATHS.node26),
  deno: existsSync(RUNTIME_PATHS.deno),
  bun: existsSync(RUNTIME_PATHS.bun),
};

const missing = (Object.keys(WHAT) as Need[]).filter((need) => !available[need]);
if (missing.length > 0) console.warn(`some process tests will be skipped: missing ${missing.map((need) => WHAT[need]).join('; ')} (.ci/run installs and starts them)`);

export function have(need: Need): boolean {
  return available[need];
}

/** Skips the running test, saying why, unless the machine has all of `needs`. */
export function needs(context: { skip: (condition: boolean, note?: string) => void }, ...wanted: Need[]): void {
  const absent = wanted.filter((need) => !available[need]);
  context.skip(absent.length > 0, `needs ${absent.map((need) => WHAT[need]).join(' and ')} (.ci/run provides it)`);
}
