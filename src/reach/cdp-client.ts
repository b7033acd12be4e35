// A minimal Chrome DevTools Protocol client over one WebSocket, typed by cdp-protocol.ts.
// Every call has a client-side timeout: a target blocked in a synchronous native call
// (execSync, a native addon) accepts our messages but answers none of them.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import WebSocket from 'ws';
import type { EventName, Events, Method, ParamsOf, ResultOf } from './cdp-protocol.js';

export class CdpTimeoutError extends Error {
  override readonly name = 'CdpTimeoutError';
  constructor(readonly method: string, timeoutMs: number) {
    super(`${method} got no answer within ${timeoutMs} ms`);
  }
}

export class CdpClosedError extends Error {
  override readonly name = 'CdpClosedError';
  constructor(readonly method: string) {
    super(`the inspector connection closed before ${method} answered`);
  }
}

/** The target answered with an error: the message keeps the method, `response` the reply. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(readonly method: string, readonly response: { code?: number; message?: string; data?: string }) {
    super(`${method}: ${response.message ?? 'protocol error'}${response.data ? ` (${response.data})` : ''}`);
  }
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Listener<E extends EventName> = (params: Events[E]) => void;

export class CdpClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events = new EventEmitter();
  private closed = false;
  /**
   * One call on the wire at a time. Node's inspector writes without TCP_NODELAY: an answer
   * written while the one before is not yet acknowledged waits for our ACK, which the kernel
   * delays up to 40 ms (measured: three calls sent together took 42 ms now and then, one after
   * the other 1 ms; it cost every window of a big snapshot 40-65 ms). Calls wait here instead;
   * each one's timeout still counts from the call.
   */
  private readonly waiting: Array<{ id: number; message: string }> = [];
  private onWire: number | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  /** `through`: a Unix socket that leads to the inspector (a relay in the target's network namespace). */
  static connect(url: string, timeoutMs: number, through?: { socketPath: string }): Promise<CdpClient> {
    return new Promise((resolve, reject) => {
      const createConnection = through ? () => net.connect(through.socketPath) : undefined;
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30, createConnection });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new CdpTimeoutError('connect', timeoutMs));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(new CdpClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send<M extends Method>(method: M, params: ParamsOf<M>, timeoutMs = 2000): Promise<ResultOf<M>> {
    if (this.closed) return Promise.reject(new CdpClosedError(method));
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CdpTimeoutError(method, timeoutMs));
        this.sendNext(id);
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject, timer });
      this.waiting.push({ id, message: JSON.stringify({ id, method, params }) });
      if (this.onWire === undefined) this.sendNext();
    });
  }

  /** Puts the next waiting call on the wire, once the one there (`done`, if given) has ended. */
  private sendNext(done?: number): void {
    if (done !== undefined && done !== this.onWire) return;
    this.onWire = undefined;
    for (let next = this.waiting.shift(); next && !this.closed; next = this.waiting.shift()) {
      if (!this.pending.has(next.id)) continue; // it timed out while it waited
      this.onWire = next.id;
      this.socket.send(next.message);
      return;
    }
  }

  on<E extends EventName>(event: E, listener: Listener<E>): void {
    this.events.on(event, listener);
  }

  once<E extends EventName>(event: E, listener: Listener<E>): void {
    this.events.once(event, listener);
  }

  off<E extends EventName>(event: E, listener: Listener<E>): void {
    this.events.off(event, listener);
  }

  /** Resolves when the connection is gone (closed by either side or by the target's death). */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.events.once('close', resolve));
  }

  /** Also called once the connection is gone. */
  onClosed(listener: () => void): () => void {
    this.events.on('close', listener);
    return () => this.events.off('close', listener);
  }

  /**
   * Closes the session: the WebSocket closing handshake, cut short after a second (a stopped or
   * blocked target never answers it: that took 40 s once).
   */
  close(): Promise<void> {
    if (!this.closed) {
      this.socket.close();
      const cut = setTimeout(() => this.socket.terminate(), 1000);
      cut.unref();
      void this.whenClosed().then(() => clearTimeout(cut));
    }
    return this.whenClosed();
  }

  private onMessage(text: string): void {
    let message: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: { code?: number; message?: string; data?: string } };
    try {
      message = JSON.parse(text);
    } catch {
      return; // not a protocol message: nothing can be waiting for it
    }
    if (typeof message.id === 'number') {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      this.sendNext(message.id);
      if (message.error) call.reject(new ProtocolError(call.method, message.error));
      else call.resolve(message.result ?? {});
    } else if (typeof message.method === 'string') {
      this.events.emit(message.method, message.params ?? {});
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(new CdpClosedError(call.method));
    }
    this.pending.clear();
    this.waiting.length = 0;
    this.events.emit('close');
  }
}
