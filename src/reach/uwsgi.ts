// Recognises a uWSGI master and reads the options that decide how it reloads: from its command
// line (--option value, --option=value) and from the ini file it was given (--ini, or a bare
// *.ini argument), section [uwsgi].
import { basename, resolve } from 'node:path';
import { readTargetFile } from './target-files.js';
import { readCmdline, readExecutable, readLink } from './proc.js';

export interface UwsgiInfo {
  /** Options by name (dashes, as in `worker-reload-mercy`); flags without a value are "true". */
  options: Record<string, string>;
  iniFile?: string;
  /** uWSGI kills a worker that outlives a reload after this long (worker-reload-mercy, default 60 s). */
  workerReloadMercyMs: number;
  gevent: boolean;
  waitForHub: boolean;
}

const DEFAULT_WORKER_RELOAD_MERCY_S = 60;

/** By its executable (uwsgi, uwsgi-core), never by the name it gives itself. */
export function isUwsgi(pid: number): boolean {
  return /^uwsgi/.test(basename(readExecutable(pid) ?? ''));
}

export function readUwsgiInfo(pid: number): UwsgiInfo {
  const argv = readCmdline(pid);
  const cwd = readLink(`/proc/${pid}/cwd`) ?? '/';
  const options: Record<string, string> = {};
  let iniFile: string | undefined;
  for (let i = 1; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (!word.startsWith('--')) {
      if (word.endsWith('.ini')) iniFile = resolve(cwd, word);
      continue;
    }
    const [name, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const next = argv[i + 1];
    const value = inline ?? (next !== undefined && !next.startsWith('--') ? (i += 1, next) : 'true');
    if (name === 'ini') iniFile = resolve(cwd, value);
    else options[name] = value;
  }
  // Through /proc/<pid>/root: a master in a container names files of its own filesystem.
  if (iniFile) Object.assign(options, { ...readIni(`/proc/${pid}/root${iniFile}`), ...options });
  const mercy = Number(options['worker-reload-mercy'] ?? DEFAULT_WORKER_RELOAD_MERCY_S);
  return {
    options,
    iniFile,
    workerReloadMercyMs: (Number.isFinite(mercy) && mercy > 0 ? mercy : DEFAULT_WORKER_RELOAD_MERCY_S) * 1000,
    gevent: options.gevent !== undefined && options.gevent !== 'false',
    waitForHub: isTrue(options['gevent-wait-for-hub']),
  };
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|1|yes|on)$/i.test(value);
}

/** The [uwsgi] section of an ini file: `key = value` lines; ; and # start comments. */
export function readIni(file: string): Record<string, string> {
  const text = readTargetFile(file);
  if (text === undefined) return {};
  const options: Record<string, string> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { section = header[1]!.trim(); continue; }
    if (section !== 'uwsgi') continue;
    const eq = line.indexOf('=');
    if (eq < 0) { options[line] = 'true'; continue; }
    options[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return options;
}
