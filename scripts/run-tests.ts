/**
 * `./dev test`: every test file under mocha, each file in its own mocha process, two at a
 * time, then one closing line "N passed, N failed[, N skipped]" that CI reads.
 *
 * Why a process per file: the Pulumi tests import the program (index.ts) under
 * `pulumi.runtime.setMocks` with different stack config per file, and Pulumi's runtime
 * state (mocks, config, the program module itself) is process-wide. mocha's own
 * `--parallel` reuses its worker processes across files, which would leak that state.
 *
 *   node scripts/run-tests.ts                          every test/**\/*.test.ts
 *   node scripts/run-tests.ts test/api/*.test.ts       some files (any glob or path)
 *   KDDB_TEST_JOBS=1 node scripts/run-tests.ts         one file at a time
 *
 * A file that holds something only one process may have at a time says so in its header with
 * `@exclusive <what>` (the local environment: its state store's port, its node's bridge): the
 * runner never runs two files naming the same thing at once, and runs other files meanwhile.
 *
 * mocha's settings (TypeScript files, timeout, reporter) are in .mocharc.json, so
 * `npx mocha <file>` runs one file exactly as this runner does.
 */
import { spawn } from "node:child_process";
import { globSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../test/helpers/paths.ts";

const MOCHA = join(REPO_ROOT, "node_modules", "mocha", "bin", "mocha.js");
const JOBS = Math.max(1, Number(process.env.KDDB_TEST_JOBS ?? 2));
/** A file still running after this long gets a progress line, so a CI log never looks hung. */
const PROGRESS_EVERY_MS = 60_000;
/** A file's process is killed (and counted failed) after this long: a hang must not eat CI's 90 minutes. */
const FILE_TIMEOUT_MS = Number(process.env.KDDB_TEST_FILE_TIMEOUT_MS ?? 40 * 60_000);
/**
 * How long a file may stay alive once mocha has printed its results: longer means something
 * it started (a server, a timer, a child) was never closed, which is a defect of its own.
 */
const EXIT_GRACE_MS = Number(process.env.KDDB_TEST_EXIT_GRACE_MS ?? 60_000);

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
}

/** The counts from mocha's spec epilogue ("12 passing", "1 failing", "3 pending"). */
export function parseCounts(output: string): { passed: number; failed: number; skipped: number } {
  const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}\\b`, "m").exec(output)?.[1] ?? 0);
  return { passed: count("passing"), failed: count("failing"), skipped: count("pending") };
}

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MOCHA, file], { cwd: REPO_ROOT, env: process.env });
    let out = "";
    let killedBecause = "";
    let lingering: NodeJS.Timeout | undefined;
    const kill = (why: string) => {
      killedBecause = why;
      child.kill("SIGKILL");
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      // mocha's epilogue ("N passing (…)") is its last word: the process should end now.
      if (!lingering && /^\s*\d+ passing \(/m.test(out)) {
        lingering = setTimeout(() => kill(`did not exit within ${EXIT_GRACE_MS / 1000} s of its results (an open handle)`), EXIT_GRACE_MS);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const deadline = setTimeout(() => kill(`ran longer than ${FILE_TIMEOUT_MS / 60_000} min`), FILE_TIMEOUT_MS);
    const progress = setInterval(
      () => process.stdout.write(`… ${file} still running (${Math.round((Date.now() - started) / 1000)} s)\n`),
      PROGRESS_EVERY_MS,
    );
    child.on("close", (code, signal) => {
      clearInterval(progress);
      clearTimeout(deadline);
      clearTimeout(lingering);
      const counts = parseCounts(out);
      if (killedBecause) {
        counts.failed += 1;
        out += `\n${file}: killed: it ${killedBecause}\n`;
      }
      // A file that crashed before mocha's epilogue (a syntax error, an import that throws,
      // a killed process) reports no failures itself: count it as one.
      else if ((code !== 0 || signal) && counts.failed === 0) {
        counts.failed = 1;
        out += `\n${file}: mocha exited with ${signal ?? `code ${code}`} and reported no failing test\n`;
      }
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      // Each file's output is printed whole when it ends, so two files never interleave.
      process.stdout.write(`\n━━ ${file} (${seconds} s)\n${out.trimEnd()}\n`);
      resolve({ file, ...counts, seconds });
    });
  });
}

/** What a file says only one process may hold at a time (`@exclusive <what>` in its text). */
function exclusiveOf(file: string): string[] {
  return [...readFileSync(join(REPO_ROOT, file), "utf8").matchAll(/@exclusive ([\w-]+)/g)].map((m) => m[1]!);
}

/** The slowest files (the e2e ones) first, so they never start last and stretch the run. */
function schedule(files: string[]): string[] {
  const weight = (f: string) => (f.includes("/e2e/") ? 0 : 1);
  return [...files].sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
}

async function main(): Promise<void> {
  const patterns = process.argv.slice(2);
  const files = schedule(
    [...new Set((patterns.length ? patterns : ["test/**/*.test.ts"]).flatMap((p) => globSync(p, { cwd: REPO_ROOT })))].map((f) =>
      relative(REPO_ROOT, join(REPO_ROOT, f)),
    ),
  );
  if (files.length === 0) throw new Error(`no test files match ${patterns.join(" ")}`);
  const queue = [...files];
  const results: FileResult[] = [];
  const held = new Set<string>();
  const waiting: (() => void)[] = [];
  // The next file whose exclusive things are free, or undefined (queue empty, or all waiting).
  const next = () => {
    const i = queue.findIndex((f) => exclusiveOf(f).every((x) => !held.has(x)));
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };
  await Promise.all(
    Array.from({ length: Math.min(JOBS, files.length) }, async () => {
      while (queue.length) {
        const f = next();
        if (!f) {
          await new Promise<void>((r) => waiting.push(r));
          continue;
        }
        const mine = exclusiveOf(f);
        mine.forEach((x) => held.add(x));
        results.push(await runFile(f));
        mine.forEach((x) => held.delete(x));
        waiting.splice(0).forEach((wake) => wake());
      }
    }),
  );
  const sum = (k: "passed" | "failed" | "skipped") => results.reduce((n, r) => n + r[k], 0);
  const failedFiles = results.filter((r) => r.failed > 0).map((r) => r.file);
  if (failedFiles.length) process.stdout.write(`\nfiles with failures: ${failedFiles.join(", ")}\n`);
  const skipped = sum("skipped");
  process.stdout.write(`\n${sum("passed")} passed, ${sum("failed")} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  process.exitCode = sum("failed") > 0 ? 1 : 0;
}

if (import.meta.main) await main();
