// Pure parsers and /proc decoding, checked against this test process's own real sockets.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';
import { parseSignal } from '../../src/probe/signals.js';
import { parseReadySpec } from '../../src/probe/ready.js';
import { processSockets, readThreads, signalDisposition } from '../../src/reach/proc.js';
import { isAppRunner } from '../../src/in-target/run-preload.js';
import { readIni } from '../../src/reach/uwsgi.js';
import { escapeData, escapeProperty } from '../../src/report/github.js';
import { xml } from '../../src/report/junit.js';

describe('parsers', () => {
  it('durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('7')).toBe(7000);
    expect(parseDuration('5h')).toBe(18_000_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1ms')).toBe(1);
    // From 1 ms to 24 h: below rounds to nothing, above overflows timers (40000m did, at once).
    for (const bad of ['', '0', '0s', '-1s', 'ten', '1e3', '0.4ms', '25h', '40000m', '1441m', ' 5 s']) expect(() => parseDuration(bad), bad).toThrow(/invalid mercy .*from 1ms to 24h/);
  });

  it('signals', () => {
    expect(parseSignal('SIGTERM')).toEqual({ name: 'SIGTERM', number: 15 });
    expect(parseSignal('int')).toEqual({ name: 'SIGINT', number: 2 });
    expect(parseSignal('1')).toEqual({ name: 'SIGHUP', number: 1 });
    expect(() => parseSignal('SIGNOPE')).toThrow(/unknown signal/);
  });
});

describe('run mode parsers', () => {
  it('--ready specs', () => {
    expect(parseReadySpec(undefined)).toEqual({ kind: 'auto' });
    expect(parseReadySpec('port:3000')).toEqual({ kind: 'port', port: 3000 });
    expect(parseReadySpec('http://127.0.0.1:3000/health')).toMatchObject({ kind: 'http' });
    expect(parseReadySpec('log:^listening on \\d+')).toMatchObject({ kind: 'log' });
    expect(parseReadySpec('delay:2s')).toEqual({ kind: 'delay', ms: 2000 });
    for (const bad of ['port:0', 'port:70000', 'port:0x50', 'port:1e3', 'port: 80', 'port:80.5', 'log:(', 'delay:soon', 'delay:0.1ms', 'tcp:80', 'http://']) expect(() => parseReadySpec(bad), bad).toThrow(/invalid --ready/);
  });

  it('package managers and CLIs that run the app as a child are told from apps', () => {
    expect(isAppRunner('/usr/lib/node_modules/npm/bin/npm-cli.js')).toBe(true);
    expect(isAppRunner('/usr/local/bin/npx')).toBe(true);
    expect(isAppRunner('/opt/yarn/bin/yarn.js')).toBe(true);
    expect(isAppRunner('/srv/app/node_modules/.bin/tsx')).toBe(true);
    expect(isAppRunner('/srv/app/node_modules/tsx/dist/cli.mjs')).toBe(true);
    expect(isAppRunner('/srv/app/node_modules/nodemon/bin/nodemon.js')).toBe(true);
    expect(isAppRunner('/srv/app/server.js')).toBe(false);
    expect(isAppRunner('/srv/app/npm-report.ts')).toBe(false);
    // tsx's own loader files run inside the app: they are not its CLI.
    expect(isAppRunner('/srv/app/node_modules/tsx/dist/loader.mjs')).toBe(false);
  });
});

describe('report escaping', () => {
  it('GitHub workflow commands: data and property values', () => {
    expect(escapeData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext');
    expect(escapeProperty('a:b,c')).toBe('a%3Ab%2Cc');
  });

  it('JUnit XML: markup escaped, control characters dropped', () => {
    expect(xml('<a href="x">&</a>\u0001\ufffe')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;\ufffd\ufffd');
  });

  it('uWSGI ini: the [uwsgi] section, comments and bare flags', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = `${mkdtempSync(`${tmpdir()}/rd-ini-`)}/app.ini`;
    writeFileSync(file, '; comment\n[other]\nmaster = false\n[uwsgi]\nmaster = true\n# another\ngevent-wait-for-hub\nworker-reload-mercy = 5\n');
    expect(readIni(file)).toEqual({ master: 'true', 'gevent-wait-for-hub': 'true', 'worker-reload-mercy': '5' });
  });
});

describe('/proc readers', () => {
  it('match this process socket inodes to /proc/net/tcp{,6} rows, IPv4 and IPv6', async () => {
    const v4 = net.createServer().listen(0, '127.0.0.1');
    const v6 = net.createServer().listen(0, '::1');
    await Promise.all([v4, v6].map((s) => new Promise((r) => s.once('listening', r))));
    const client = net.connect((v4.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    try {
      const rows = processSockets(process.pid);
      expect(rows).toContainEqual(expect.objectContaining({ localAddress: '127.0.0.1', localPort: (v4.address() as net.AddressInfo).port, state: 'LISTEN' }));
      expect(rows).toContainEqual(expect.objectContaining({ localAddress: '::1', localPort: (v6.address() as net.AddressInfo).port, state: 'LISTEN' }));
      expect(rows).toContainEqual(expect.objectContaining({ localPort: client.localPort, remotePort: client.remotePort, state: 'ESTABLISHED' }));
    } finally {
      client.destroy();
      v4.close();
      v6.close();
    }
  });

  it('reads threads and signal dispositions', () => {
    const threads = readThreads(process.pid);
    expect(threads.find((t) => t.tid === process.pid)).toBeDefined();
    expect(threads.length).toBeGreaterThan(1); // libuv threadpool / V8 platform threads
    const listener = () => {};
    process.on('SIGUSR2', listener);
    try {
      expect(signalDisposition(process.pid, 12)).toBe('caught');
    } finally {
      process.off('SIGUSR2', listener);
    }
  });
});

describe('http server advice by Node version', async () => {
  const { fixFor } = await import('../../src/explain/rules/http-server.js');
  it('names the API the target has', () => {
    expect(fixFor('v20.20.2', true)).toMatch(/closeAllConnections/);
    expect(fixFor('v18.12.0', false)).toMatch(/closeIdleConnections/);
    expect(fixFor('v16.20.0', false)).toMatch(/destroy\(\) them/);
  });
});
