// `reload-doctor/jest`: the same matcher for Jest (run Jest with ES modules: this package is ESM):
//   import { reloadDoctorMatchers } from 'reload-doctor/jest';
//   expect.extend(reloadDoctorMatchers);
//   await expect({ command: ['node', 'server.js'] }).toShutDownWithin('3s');
import type { CheckOptions, Duration } from '../api/options.js';
import { toShutDownWithin } from './shut-down-within.js';

export { toShutDownWithin };
export type { ShutdownSubject } from './shut-down-within.js';
export const reloadDoctorMatchers = { toShutDownWithin };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** Passes when the service (`{ command }`) or process (`{ pid }`) exits within `mercy` after the signal. Await it. */
      toShutDownWithin(mercy: Duration, options?: Partial<CheckOptions>): Promise<R>;
    }
  }
}
