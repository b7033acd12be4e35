// The owner inference's choices, on object facts as the target describes them
// (src/in-target/owner-facts.ts): which object on a holder's path owns the resource, which of
// its methods closes it, and how the fix is written with the app's own expression.
import { describe, expect, it } from 'vitest';
import type { InferredOwner } from '../../src/core/types.js';
import { closeCallText } from '../../src/explain/close-call.js';
import { chooseOwner, closeCallOf, coreModuleOf, expressionOf, parametersOf, type CloserFacts, type ObjectFacts } from '../../src/inspect/owner-inference.js';

const closer = (name: string, source: string, core = false): CloserFacts => ({ name, arity: parametersOf(source).length, source, core });
const grpc = { package: { name: '@grpc/grpc-js', version: '1.14.7' } };

describe('closeCallOf: the closing method a prototype really has', () => {
  it('graceful before forceful; a callback said as one; the forceful one offered beside it', () => {
    expect(closeCallOf([closer('tryShutdown', 'tryShutdown(callback) { this.x = 1; }'), closer('forceShutdown', 'forceShutdown() {}')]))
      .toEqual({ method: 'tryShutdown', awaits: false, callback: true, alternative: 'forceShutdown' });
  });

  it('a promise is awaited (an async function, or one that builds a Promise)', () => {
    expect(closeCallOf([closer('destroy', 'async destroy() { await this.#driver.destroy(); }')])).toMatchObject({ method: 'destroy', awaits: true, callback: false });
    expect(closeCallOf([closer('end', 'end(cb) { const promised = promisify(this.Promise, cb); return promised.result; }')])).toMatchObject({ method: 'end', awaits: true, callback: false });
  });

  it("a library's own method before one its class inherits from Node (a gRPC stream's cancel, not Readable's destroy)", () => {
    expect(closeCallOf([closer('destroy', 'destroy(err, cb) {}', true), closer('cancel', 'cancel() {}')])).toMatchObject({ method: 'cancel' });
  });

  it('generic-pool: drain() then clear()', () => {
    expect(closeCallOf([closer('drain', 'drain() { return this._Promise.resolve(); }'), closer('clear', 'clear() {}')])).toMatchObject({ method: 'drain', then: 'clear', awaits: true });
  });

  it('nothing that closes: no call made up', () => {
    expect(closeCallOf([])).toBeUndefined();
    expect(closeCallOf([closer('clear', 'clear() {}')])).toBeUndefined();
  });
});

describe('chooseOwner: the outermost library or Node object on the path that can be closed', () => {
  const facts: ObjectFacts[] = [
    { className: 'Object', closers: [] }, // the app's plain config object: not made by a library
    { className: 'Repository', closers: [closer('close', 'close() {}')] }, // the app's own class: passed through
    { className: 'Kysely', made: { package: { name: 'kysely', version: '0.28.19' } }, closers: [closer('destroy', 'async destroy() {}')] },
    { className: 'Pool', made: { package: { name: 'pg-pool', version: '3.10.1' } }, closers: [closer('end', 'end(cb) { return new Promise(() => {}); }')] },
    { className: 'Socket', made: { core: 'net' }, closers: [closer('end', 'end() {}', true), closer('destroy', 'destroy() {}', true)] },
  ];

  it('a wrapper over a driver is the owner (kysely over its pg pool), written with the app\'s expression', () => {
    const owner = chooseOwner({ keys: ['config', 'repository', 'db', '#props', 'pool', '_clients', '[0]'], objects: [0, 1, 2, 3, 4] }, facts);
    expect(owner).toMatchObject({ package: { name: 'kysely' }, className: 'Kysely', expression: 'config.repository.db', variable: 'config', close: { method: 'destroy', awaits: true } });
    expect(closeCallText(owner!)).toBe('`await config.repository.db.destroy()`');
  });

  it('a Node object is named by its module; events and stream base classes are never the owner', () => {
    expect(chooseOwner({ keys: ['session', 'socket'], objects: [4] }, facts)).toMatchObject({ core: 'net', expression: 'session' });
    const base: ObjectFacts[] = [{ className: 'EventEmitter', made: { core: 'events' }, closers: [closer('close', 'close() {}')] }];
    expect(chooseOwner({ keys: ['emitter'], objects: [0] }, base)).toBeUndefined();
  });

  it('a path through a Set or a symbol has no JavaScript expression: the fix says which object', () => {
    const owner = chooseOwner({ keys: ['registry', 'values()', 'pool'], objects: [0, 3] }, facts)!;
    expect(owner.expression).toBeUndefined();
    expect(closeCallText(owner)).toBe('`await ….end()` on the Pool that `registry` holds');
  });

  it('minified class names are left out', () => {
    const minified: ObjectFacts[] = [{ className: 'R', made: { package: { name: 'croner' } }, closers: [closer('stop', 'stop() {}')] }];
    expect(chooseOwner({ keys: ['job'], objects: [0] }, minified)).toMatchObject({ className: '', expression: 'job' });
  });
});

describe('the words', () => {
  it('the open objects of the same package: the calls that cancel first', () => {
    const owner: InferredOwner = {
      ...grpc, className: 'ServiceClientImpl', expression: 'client', variable: 'client', close: { method: 'close', awaits: false, callback: false },
      alsoOpen: [{ variable: 'stream', className: 'ClientReadableStreamImpl', close: { method: 'cancel', awaits: false, callback: false } }],
    };
    expect(closeCallText(owner)).toBe('`stream.cancel()`, then `client.close()`');
  });

  it('expressionOf and coreModuleOf', () => {
    expect(expressionOf(['jobs', 'get("nightly")', 'timer'])).toBe('jobs.get("nightly").timer');
    expect(expressionOf(['list', '[2]', 'client'])).toBe('list[2].client');
    expect(expressionOf(['a', '[kSocket]'])).toBeUndefined();
    expect(expressionOf(['a b'])).toBeUndefined();
    expect(coreModuleOf('node:internal/http2/core')).toBe('http2');
    expect(coreModuleOf('node:internal/deps/undici/undici')).toBe('undici (fetch)');
    expect(coreModuleOf('node:_http_agent')).toBe('http');
    expect(coreModuleOf('node:internal/worker')).toBe('worker_threads');
    expect(coreModuleOf('node:internal/streams/readable')).toBe('stream');
    expect(coreModuleOf('node:dgram')).toBe('dgram');
    expect(coreModuleOf('/app/node_modules/x/index.js')).toBeUndefined();
  });
});
