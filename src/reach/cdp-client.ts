// A minimal Chrome DevTools Protocol client over one WebSocket.
// Every call has a client-side timeout: a target blocked in a synchronous native call
// (execSync, a native addon) accepts our messages but answers none of them.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';

export class CdpTimeoutError extends Error {
  constructor(method: string, timeoutMs: number) {
    super(`${method} got no answer within ${timeoutMs} ms`);
    this.name = 'CdpTimeoutError';
  }
}

export class CdpClosedError extends Error {
  constructor(method: string) {
    super(`the inspector connection closed before ${method} answered`);
    this.name = 'CdpClosedError';
  }
}

interface Pending {
  method: string;
  resolve: (result: any) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class CdpClient extends EventEmitter {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  static connect(url: string, timeoutMs: number): Promise<CdpClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
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

  send<T = any>(method: string, params: object = {}, timeoutMs = 2000): Promise<T> {
    if (this.closed) return Promise.reject(new CdpClosedError(method));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CdpTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Resolves when the connection is gone (closed by either side or by the target's death). */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.once('close', resolve));
  }

  close(): Promise<void> {
    if (!this.closed) this.socket.close();
    return this.whenClosed();
  }

  private onMessage(text: string): void {
    let message: any;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message.id === 'number') {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      if (message.error) call.reject(new Error(`${call.method}: ${message.error.message}`));
      else call.resolve(message.result);
    } else if (typeof message.method === 'string') {
      this.emit(message.method, message.params ?? {});
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
    this.emit('close');
  }
}
