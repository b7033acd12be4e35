// The package's API: `import { checkShutdown } from 'reload-doctor'`. Everything here is a
// re-export; the work is in api/ (and the CLI, src/cli.ts, is one more user of it).
export { checkShutdown } from './api/check.js';
export type { AttachOptions, CheckOptions, Duration, RunOptions } from './api/options.js';
export { AbortError, ReachError, ReloadDoctorError, ServiceNotReadyError, UsageError } from './core/errors.js';
export { EXIT } from './core/exit-codes.js';
export type { FindingDocument, HandleDocument, ShutdownDocument, TreeMemberDocument } from './report/json.js';
export type { LoadReport, Outcome, PackageRef, RunInfo, SourceLocation, StackFrame, Target, Timeline, TimelineEvent, TimelineLane, Verdict } from './core/types.js';
