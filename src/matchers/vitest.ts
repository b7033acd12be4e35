// `reload-doctor/vitest`:
//   import { expect } from 'vitest';
//   import { reloadDoctorMatchers } from 'reload-doctor/vitest';
//   expect.extend(reloadDoctorMatchers);
//   await expect({ command: ['node', 'server.js'] }).toShutDownWithin('3s');
import type { CheckOptions, Duration } from '../api/options.js';
import { toShutDownWithin } from './shut-down-within.js';
import type {} from 'vitest';

export { toShutDownWithin };
export type { ShutdownSubject } from './shut-down-within.js';
export const reloadDoctorMatchers = { toShutDownWithin };

declare module 'vitest' {
  interface Matchers<T = any> {
    /** Passes when the service (`{ command }`) or process (`{ pid }`) exits within `mercy` after the signal. Await it. */
    toShutDownWithin(mercy: Duration, options?: Partial<CheckOptions>): Promise<void>;
  }
}
