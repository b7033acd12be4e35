// The action's check: runs `reload-doctor run` on the service named by the inputs, with the
// annotations in the log (--format github) and a Markdown summary on the job's page
// ($GITHUB_STEP_SUMMARY). Exits with reload-doctor's exit code: 1 (not shut down in time)
// fails the step, as do 2 (bad input), 3 and 4 (the service never ran).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** "node server.js --name 'a b'" → words, as a shell would split them, without expanding anything. */
function splitWords(text) {
  const words = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error('an unclosed single quote');
      word += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1])) j++;
        word += text[j];
      }
      if (j >= text.length) throw new Error('an unclosed double quote');
      i = j;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function fail(message) {
  // One workflow command, its data escaped as GitHub requires.
  process.stdout.write(`::error title=reload-doctor::${message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`);
  process.exit(2);
}

const env = process.env;
let command;
try {
  command = splitWords(env.RD_COMMAND ?? '');
} catch (error) {
  fail(`the command input has ${error.message}`);
}
if (command.length === 0) fail('the command input is empty: give the service to start, e.g. "node server.js"');

const cli = join(env.RUNNER_TEMP ?? '', 'reload-doctor', 'node_modules', 'reload-doctor', 'dist', 'cli.js');
const args = [cli, 'run', '--format', 'github'];
if (env.GITHUB_STEP_SUMMARY) args.push('--summary-file', env.GITHUB_STEP_SUMMARY);
for (const [flag, value] of [['--mercy', env.RD_MERCY], ['--signal', env.RD_SIGNAL], ['--ready', env.RD_READY], ['--exercise', env.RD_EXERCISE]]) {
  if (value) args.push(flag, value);
}
args.push('--', ...command);

const child = spawn(process.execPath, args, { stdio: 'inherit' });
// The runner cancelling the job: pass it on, so reload-doctor kills the service it started.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)));
