import { Command } from 'commander';
import { registerExport } from './export.js';
import { registerReplay } from './replay.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerShow } from './show.js';
import { registerSignatures } from './signatures.js';
import { registerStatus } from './status.js';

// `minewatch export | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const program = new Command();
program
  .name('minewatch')
  .description('Find cryptocurrency mining in packet captures and live traffic')
  .version('0.1.0')
  .showHelpAfterError();

registerReplay(program);
registerExport(program);
registerShow(program);
registerSignatures(program);
registerReport(program);
registerRun(program);
registerStatus(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`minewatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
