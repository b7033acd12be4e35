// cron (CronJob): a started job keeps a setTimeout until its next run (lib/job.js) and re-arms
// it after each run.
import { libraryRule } from './library.js';

export const cronRule = libraryRule({
  id: 'cron',
  name: 'cron',
  packages: ['cron'],
  problem: (handles) => `CronJob${handles.length === 1 ? '' : 's'} never stopped`,
  why: () => 'a started CronJob keeps a timer until its next run and sets a new one after each run, forever',
  fix: () => 'keep the job (const job = CronJob.from({ … })) and call job.stop() in your shutdown handler',
});
