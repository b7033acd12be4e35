// scriptId → URL, which [[FunctionLocation]] needs. Debugger.enable replays scriptParsed for
// every loaded script (~50-100 ms); starting it before the mercy runs out keeps that cost
// out of the time to the report. Pauses are skipped so a `debugger;` statement in the app
// cannot freeze it while we are attached; Debugger.disable undoes it all.
import { bestEffort } from '../core/debug.js';
import type { CdpClient } from '../reach/cdp-client.js';

const TIMEOUT_MS = 3000;

export interface ScriptCatalog {
  urls: Map<string, string>;
  /** Debugger.disable: the target is as it was. Pass false when the target is gone (nothing to undo). */
  stop(targetAlive?: boolean): Promise<void>;
}

export async function startScriptCatalog(client: CdpClient): Promise<ScriptCatalog> {
  const urls = new Map<string, string>();
  const onScript = (params: { scriptId: string; url: string }) => urls.set(params.scriptId, params.url);
  client.on('Debugger.scriptParsed', onScript);
  try {
    await client.send('Debugger.enable', {}, TIMEOUT_MS);
    await client.send('Debugger.setSkipAllPauses', { skip: true }, TIMEOUT_MS);
  } catch (error) {
    client.off('Debugger.scriptParsed', onScript);
    throw error;
  }
  let stopped = false;
  return {
    urls,
    async stop(targetAlive = true) {
      if (stopped) return;
      stopped = true;
      client.off('Debugger.scriptParsed', onScript);
      if (targetAlive && !client.isClosed) await client.send('Debugger.disable', {}, TIMEOUT_MS).catch(bestEffort('disabling the debugger'));
    },
  };
}
