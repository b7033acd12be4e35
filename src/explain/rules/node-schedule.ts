// node-schedule: each scheduled job keeps a timer until its next invocation (long ones through
// the long-timeout package) and re-arms it after each run.
import { libraryRule } from './library.js';

export const nodeScheduleRule = libraryRule({
  id: 'node-schedule',
  name: 'node-schedule',
  packages: ['node-schedule', 'long-timeout'],
  problem: (handles) => `scheduled job${handles.length === 1 ? '' : 's'} never cancelled`,
  why: () => 'each scheduled job keeps a timer until its next invocation and sets a new one after each run, forever',
  fix: () => 'await schedule.gracefulShutdown() in your shutdown handler (it cancels every job), or job.cancel() for one',
});
