/** Ports for the local environment's listeners. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

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
