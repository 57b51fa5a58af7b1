/** The Pulumi CLI against the local environment: a file backend, no network, the tools on PATH. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import { run } from "./process.ts";

export function pulumiEnv(path: string, kubeconfig: string, stateDir: string): NodeJS.ProcessEnv {
  mkdirSync(stateDir, { recursive: true });
  return {
    ...process.env,
    PATH: path,
    KUBECONFIG: kubeconfig,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "local-only-not-a-secret",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: join(stateDir, ".pulumi-home"),
    PULUMI_SKIP_CONFIRMATIONS: "true",
    NO_COLOR: "1",
  };
}

/** Runs the Pulumi CLI; at the timeout it is interrupted (SIGINT), so it stops cleanly and releases the stack's lock. */
export const pulumi = (args: string[], env: NodeJS.ProcessEnv, opts: { echo?: boolean; cwd?: string; timeoutMs?: number } = {}) =>
  run("pulumi", [...args, "--non-interactive"], { env, timeoutSignal: "SIGINT", ...opts });

/**
 * A project folder for one stack: links to the repository's files, and the
 * stack's config copied in as Pulumi.<stack>.yaml. Pulumi writes to the stack
 * file (e.g. its encryption salt), so local and test stacks never touch the work tree.
 */
export function projectWorkdir(dir: string, stack: string, configFile: string): string {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(ROOT)) {
    if (/^Pulumi\..+\.yaml$/.test(entry) || entry === ".local" || entry === ".git") continue;
    if (!existsSync(join(dir, entry))) symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  const target = join(dir, `Pulumi.${stack}.yaml`);
  // Copied again when the source changed since (a later edit of Pulumi.local.yaml reaches
  // `./dev local`), but not over `pulumi config set` made in the folder since.
  if (!existsSync(target) || statSync(configFile).mtimeMs > statSync(target).mtimeMs) copyFileSync(configFile, target);
  return dir;
}

/** Selects (creating if needed) a stack in the local backend. */
export async function selectStack(stack: string, env: NodeJS.ProcessEnv, cwd = ROOT): Promise<void> {
  const sel = await pulumi(["stack", "select", stack, "--create"], env, { cwd });
  if (sel.code !== 0) throw new Error(`pulumi stack select ${stack} failed:\n${sel.stderr}${sel.stdout}`);
}
