/**
 * Running a command and capturing its output. Shipped tools (`preview-copy`) and the local
 * environment both start processes through this one function; it lives with the CLI so that
 * nothing shipped imports the local environment (docs/architecture.md).
 */
import { spawn } from "node:child_process";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: this process's working directory. */
  cwd?: string;
  echo?: boolean;
  timeoutMs?: number;
  /** Sent at the timeout; SIGKILL follows 30 s later if the process is still there. Default SIGKILL. */
  timeoutSignal?: NodeJS.Signals;
}

/** Runs a command, capturing output; `echo` streams it as well. Never rejects: a failure is `code`. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? process.cwd(), env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d), opts.echo && process.stdout.write(d)));
    child.stderr.on("data", (d: Buffer) => ((stderr += d), opts.echo && process.stderr.write(d)));
    let hardKill: NodeJS.Timeout | undefined;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          child.kill(opts.timeoutSignal ?? "SIGKILL");
          hardKill = setTimeout(() => child.kill("SIGKILL"), 30_000);
        }, opts.timeoutMs)
      : undefined;
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(hardKill);
      resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - start });
    });
  });
}
