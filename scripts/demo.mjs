// `npm run demo`: start the bundled example service, hold one streaming request open as a
// browser would, and let reload-doctor tell why SIGTERM does not stop it.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = spawn(process.execPath, ['fixtures/demo-app.cjs'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise((resolve, reject) => {
  app.stdout.on('data', (chunk) => {
    const match = /READY (.*)/.exec(String(chunk));
    if (match) resolve(JSON.parse(match[1]).port);
  });
  app.once('exit', () => reject(new Error('the demo app exited before it was ready')));
});
const agent = new http.Agent({ keepAlive: true });
await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/events', agent }, (res) => res.once('data', resolve)));

console.log(`$ reload-doctor ${app.pid} --mercy 3s --kill\n`);
const doctor = spawn(process.execPath, ['dist/cli.js', String(app.pid), '--mercy', '3s', '--kill'], { cwd: root, stdio: 'inherit' });
const code = await new Promise((resolve) => doctor.once('exit', resolve));
agent.destroy();
app.kill('SIGKILL');
console.log(`\nreload-doctor exited with ${code}${code === 1 ? ' (still alive past the mercy), as expected for this example' : ''}`);
process.exitCode = code === 1 ? 0 : 1;
