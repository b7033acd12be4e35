// A benchmark target's own stall meter: a 2 ms heartbeat that keeps the longest gap of its
// event loop; SIGUSR2 prints it ("GAP <ms>") and starts again. Unref'd: it holds nothing.
let last = performance.now();
let longest = 0;
setInterval(() => {
  const now = performance.now();
  longest = Math.max(longest, now - last - 2);
  last = now;
}, 2).unref();
process.on('SIGUSR2', () => { console.log(`GAP ${longest.toFixed(1)}`); longest = 0; });
