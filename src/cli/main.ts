import { Command } from 'commander';
import { registerExport } from './export.js';
import { stdout } from './output.js';
import { registerReplay } from './replay.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerShow } from './show.js';
import { registerSignatures } from './signatures.js';
import { registerStatus } from './status.js';

const program = new Command();
program
  .name('minewatch')
  .description('Find cryptocurrency mining in packet captures and live traffic')
  .version('0.1.0')
  .showHelpAfterError()
  // Help and --version through the same stdout (made on first use, closed pipes end quietly).
  .configureOutput({ writeOut: (text) => stdout().write(text) });

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
