// Loaded with --require by bench/timeline.bench.mjs: arms the timeline recorder in the bench
// server once it listens, as if its shutdown had begun, watching every handle it has then, to
// measure what recording costs while it runs.
const { startTimeline } = require('../dist/in-target/timeline-recorder.js');

setTimeout(() => {
  const ids = process._getActiveHandles().map((handle) => handle._handle?.getAsyncId?.()).filter((id) => id !== undefined);
  console.error(startTimeline('reload-doctor.bench.timeline', 'SIGTERM', ids, null, null, 5));
}, 200);
