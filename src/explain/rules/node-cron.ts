// node-cron: each scheduled task re-arms a timer for its next run, forever.
import { libraryRule } from './library.js';

export const nodeCronRule = libraryRule({
  id: 'node-cron',
  name: 'node-cron',
  packages: ['node-cron'],
  problem: (handles) => `scheduled task${handles.length === 1 ? '' : 's'} never stopped`,
  why: () => 'node-cron sets a timer for the next run of every scheduled task and re-arms it after each run, forever',
  fix: () => 'keep the task (const task = cron.schedule(...)) and call task.stop() in your shutdown handler; for all of them: cron.getTasks().forEach((task) => task.stop())',
});
