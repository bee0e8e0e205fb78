import { vi } from 'vitest';
import { main } from './main.ts';

/** Tests only: runs `sceneway <args>` in this process and captures what it writes to stdout and stderr. */
export async function runSceneway(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(['node', 'sceneway', ...args]);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}
