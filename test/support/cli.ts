/** The CLI's commands run in-process on a fresh commander program, with what they print captured. */
import { Command } from 'commander';
import { vi } from 'vitest';
import { registerExport } from '../../src/cli/export.js';
import { registerReport } from '../../src/cli/report.js';
import { registerShow } from '../../src/cli/show.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `minewatch <args>` (export, show or report) and returns its exit code and output. */
export async function runCli(...args: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const program = new Command().exitOverride().configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  registerExport(program);
  registerShow(program);
  registerReport(program);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = before;
    out.mockRestore();
    err.mockRestore();
  }
}
