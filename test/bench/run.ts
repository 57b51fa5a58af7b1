/**
 * Runs a benchmark as its user does (`./dev bench:<name> <args>`, a child process) for the
 * smoke runs of test/bench/: every bench command runs at its smallest size in `./dev test`,
 * so that none rots unnoticed.
 */
import { spawn } from "node:child_process";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/paths.ts";

export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `./dev bench:<name> <args>`; killed (its process group) after `timeoutMs`. */
export function runBench(name: string, args: string[], timeoutMs: number): Promise<BenchRun> {
  return new Promise((resolve) => {
    const child = spawn("bash", [join(REPO_ROOT, "dev"), `bench:${name}`, ...args], { cwd: REPO_ROOT, detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs / 1000} s)`;
      process.kill(-child.pid!, "SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What a failed run said, for an assertion's message. */
export const said = (r: BenchRun) => `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;

/** The last JSON document a benchmark printed (they print their figures as one). */
export function figures(r: BenchRun): Record<string, unknown> {
  const start = r.stdout.lastIndexOf("\n{");
  return JSON.parse(r.stdout.slice(start < 0 ? r.stdout.indexOf("{") : start + 1)) as Record<string, unknown>;
}

/** The tools of `tools` that tools/build-tools.sh would have to build first (`--list`: not on PATH, not in its cache). */
export function missingTools(tools: string[]): string[] {
  const r = spawnSync("bash", [join(REPO_ROOT, "tools", "build-tools.sh"), "--list", ...tools], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tools/build-tools.sh --list failed:\n${r.stderr}`);
  return r.stderr
    .split("\n")
    .filter((l) => l.endsWith("(missing)"))
    .map((l) => l.split(/\s+/)[0]!);
}
