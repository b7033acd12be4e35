// Apollo Server (@apollo/server): the standalone server keeps its HTTP server listening; with
// stopOnTerminationSignals off (or a custom integration), server.stop() is the app's to call.
import { libraryRule } from './library.js';

export const apolloServerRule = libraryRule({
  id: 'apollo-server',
  name: 'Apollo Server',
  packages: ['@apollo/server'],
  runsBefore: ['http-server-connections'],
  problem: () => 'server never stopped',
  why: () => 'the Apollo Server keeps its HTTP server listening (and its connections open) until it is stopped',
  fix: () => 'await server.stop() in your SIGTERM handler (or leave stopOnTerminationSignals on for startStandaloneServer)',
});
