// reload-doctor's own version, from its package.json (one level above src/ and dist/).
import { readFileSync } from 'node:fs';

export const TOOL_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
