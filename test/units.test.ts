// Pure parsers and /proc decoding, checked against this test process's own real sockets.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/probe/duration.js';
import { parseSignal } from '../src/probe/signals.js';
import { processSockets, readThreads, signalDisposition } from '../src/reach/proc.js';

describe('parsers', () => {
  it('durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('7')).toBe(7000);
    for (const bad of ['', '0', '0s', '-1s', 'ten', '5h', '1e3']) expect(() => parseDuration(bad), bad).toThrow(/invalid mercy/);
  });

  it('signals', () => {
    expect(parseSignal('SIGTERM')).toEqual({ name: 'SIGTERM', number: 15 });
    expect(parseSignal('int')).toEqual({ name: 'SIGINT', number: 2 });
    expect(parseSignal('1')).toEqual({ name: 'SIGHUP', number: 1 });
    expect(() => parseSignal('SIGNOPE')).toThrow(/unknown signal/);
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
  const { fixFor } = await import('../src/explain/rules/http-server.js');
  it('names the API the target has', () => {
    expect(fixFor('v20.20.2', true)).toMatch(/closeAllConnections/);
    expect(fixFor('v18.12.0', false)).toMatch(/closeIdleConnections/);
    expect(fixFor('v16.20.0', false)).toMatch(/destroy\(\) them/);
  });
});
