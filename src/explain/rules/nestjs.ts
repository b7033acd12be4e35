// NestJS: the application's HTTP server is the platform's (express, fastify); Nest closes it,
// and calls every module's shutdown hooks, in app.close().
import { libraryRule } from './library.js';

export const nestjsRule = libraryRule({
  id: 'nestjs',
  name: 'NestJS',
  packages: ['@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify'],
  wraps: ['express', 'fastify'],
  runsBefore: ['http-server-connections'],
  problem: () => 'application never closed',
  why: () => 'the Nest application keeps its HTTP server listening until app.close(), which also runs every module\'s onModuleDestroy / beforeApplicationShutdown hooks',
  fix: () => 'await app.close() in your SIGTERM handler, or app.enableShutdownHooks() so Nest does it on the signal',
});
