// scriptId → URL, which [[FunctionLocation]] needs. Debugger.enable replays scriptParsed for
// every loaded script (~50-100 ms); script ids live as long as the process, so what one window
// learnt (before the signal) serves the next (at the deadline), which then enables the
// debugger only if it meets a script it does not know. Pauses are skipped while it is on, so a
// `debugger;` statement in the app cannot freeze it; Debugger.disable undoes it all.
import { bestEffort } from '../core/debug.js';
import type { CdpClient } from '../reach/cdp-client.js';

const TIMEOUT_MS = 3000;

export class ScriptCatalog {
  readonly urls = new Map<string, string>();
  /** Script URL → its sourceMappingURL (inline data: URL or a path), for scripts that have one. */
  readonly sourceMapUrls = new Map<string, string>();

  /** Turns the debugger on in this session (learning every script); returns how to turn it off. */
  async enable(client: CdpClient): Promise<() => Promise<void>> {
    const onScript = (params: { scriptId: string; url: string; sourceMapURL?: string }) => {
      this.urls.set(params.scriptId, params.url);
      if (params.sourceMapURL) this.sourceMapUrls.set(params.url, params.sourceMapURL);
    };
    client.on('Debugger.scriptParsed', onScript);
    try {
      await client.send('Debugger.enable', {}, TIMEOUT_MS);
      await client.send('Debugger.setSkipAllPauses', { skip: true }, TIMEOUT_MS);
    } catch (error) {
      client.off('Debugger.scriptParsed', onScript);
      throw error;
    }
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      client.off('Debugger.scriptParsed', onScript);
      if (!client.isClosed) await client.send('Debugger.disable', {}, TIMEOUT_MS).catch(bestEffort('disabling the debugger'));
    };
  }

  /** Learns every loaded script now, and leaves the debugger as it was. */
  async learn(client: CdpClient): Promise<void> {
    const stop = await this.enable(client);
    await stop();
  }
}
