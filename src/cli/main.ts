import { Command } from 'commander';
import { registerExport } from './export.js';
import { registerReplay } from './replay.js';
import { registerShow } from './show.js';

const program = new Command();
program
  .name('minewatch')
  .description('Find cryptocurrency mining in packet captures and live traffic')
  .version('0.1.0')
  .showHelpAfterError();

registerReplay(program);
registerExport(program);
registerShow(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`minewatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
