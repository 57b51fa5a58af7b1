/**
 * The two plainly named test doubles the local environment runs where the real
 * thing cannot run here (test/doubles/, never shipped):
 *   - ack-controller-double: ACK's DynamoDB controller (its module is not served by
 *     the Go proxy, and there is no AWS), over a local DynamoDB emulator;
 *   - kratix-skew-double: the two things current Kratix does that v0.125.0 (the only
 *     version served) does not: grant pipelines their Promise's rbac permissions,
 *     and rerun a workflow after its status step's retryAfter.
 * Each runs as a process with its command line in DIR/<name>.cmd, like the
 * controllers, so tools/local-cluster.sh can stop, kill and restart it.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import { restartProcess } from "./cluster.ts";

export const ACK_DOUBLE = "ack-controller-double";
export const KRATIX_SKEW_DOUBLE = "kratix-skew-double";

export interface DoublesOptions {
  /** The region the ACK double uses when a Table names none (ACK's --aws-region). */
  region: string;
  /** The account in the ARNs it reports. */
  accountId: string;
}

/** A free TCP port on 127.0.0.1. */
/**
 * A free port for a listener of ours, from below the kernel's ephemeral range: a port the
 * kernel hands out (listen on 0) can be taken as the source port of an outgoing connection
 * before our process binds it (tools/local-cluster.sh picks its ports the same way).
 */
export async function freePort(): Promise<number> {
  const ephemeralMin = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0] ?? 32768);
  const lo = ephemeralMin > 21_000 ? 20_000 : 10_000;
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (ephemeralMin - lo));
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port below ${ephemeralMin}`);
}

function running(dir: string, name: string): boolean {
  const pidFile = join(dir, `${name}.pid`);
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8")), 0);
    return true;
  } catch {
    return false;
  }
}

/** Where the ACK double's DynamoDB emulator listens (tests read the tables from it). */
export const dynamodbEndpointFile = (dir: string) => join(dir, "dynamodb.endpoint");

export async function startDoubles(dir: string, env: NodeJS.ProcessEnv, o: DoublesOptions): Promise<void> {
  const kubeconfig = join(dir, "kubeconfig");
  const port = await freePort();
  const node = process.execPath;
  const commands: Record<string, string[]> = {
    [ACK_DOUBLE]: [
      node,
      join(ROOT, "test", "doubles", "ack-dynamodb-controller-double.ts"),
      "--kubeconfig",
      kubeconfig,
      "--port",
      String(port),
      "--data-dir",
      join(dir, "dynamodb"),
      "--region",
      o.region,
      "--account-id",
      o.accountId,
    ],
    [KRATIX_SKEW_DOUBLE]: [node, join(ROOT, "test", "doubles", "kratix-skew-double.ts"), "--kubeconfig", kubeconfig],
  };
  if (!running(dir, ACK_DOUBLE)) writeFileSync(dynamodbEndpointFile(dir), `http://127.0.0.1:${port}\n`);
  for (const [name, cmd] of Object.entries(commands)) {
    if (running(dir, name)) continue;
    writeFileSync(join(dir, `${name}.cmd`), `${cmd.join("\n")}\n`);
    await restartProcess(dir, name as typeof ACK_DOUBLE, env); // launches it
  }
}
