// chokidar: a persistent watcher (the default) keeps fs.watch handles open (lib/nodefs-handler.js).
import { libraryRule } from './library.js';

export const chokidarRule = libraryRule({
  id: 'chokidar',
  name: 'chokidar',
  packages: ['chokidar'],
  problem: () => 'file watcher never closed',
  why: () => 'a persistent chokidar watcher keeps its fs.watch handles open, and each keeps the event loop alive',
  fix: () => 'await watcher.close() in your shutdown handler (or watch with persistent: false if it must not hold the process)',
});
