/** The local environment starts its processes through the CLI's `run`, from the repository by default. */
import { run as runProcess, type Run, type RunOptions } from "../cli/process.ts";
import { ROOT } from "./paths.ts";

export type { Run, RunOptions };

/** `run` of `cli/process.ts`, with the repository as the default working directory. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  return runProcess(cmd, args, { ...opts, cwd: opts.cwd ?? ROOT });
}
