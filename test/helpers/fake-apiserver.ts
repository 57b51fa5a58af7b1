/**
 * A loopback HTTP server that answers the calls the status step makes (GET an ACK
 * Table, LIST every DynamoDBRequest, GET a Namespace), with a kubeconfig that points at it. Enough to test the
 * status step's real Kubernetes client code path without a cluster.
 */
import { createServer, type Server } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { stringify } from "yaml";

export interface FakeApiServer {
  kubeconfig: string;
  /** Tables served, by "namespace/name". */
  tables: Map<string, unknown>;
  /** Namespaces' annotations, by name (a namespace not here does not exist). */
  namespaces: Map<string, Record<string, string>>;
  /** DynamoDBRequests the cluster-wide list returns. */
  dynamoDBRequests: unknown[];
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const tables = new Map<string, unknown>();
  const requests: string[] = [];
  const dynamoDBRequests: unknown[] = [];
  const namespaces = new Map<string, Record<string, string>>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const m = /^\/apis\/dynamodb\.services\.k8s\.aws\/v1alpha1\/namespaces\/([^/]+)\/tables\/([^/?]+)/.exec(req.url ?? "");
    const table = m ? tables.get(`${m[1]}/${m[2]}`) : undefined;
    res.setHeader("content-type", "application/json");
    if (req.headers.authorization !== "Bearer test-token") {
      res.statusCode = 401;
      res.end(JSON.stringify({ kind: "Status", code: 401 }));
    } else if (/^\/apis\/dynamodb\.kratix\.io\/v1alpha1\/dynamodbrequests(\?|$)/.test(req.url ?? "")) {
      res.end(
        JSON.stringify({ apiVersion: "dynamodb.kratix.io/v1alpha1", kind: "DynamoDBRequestList", metadata: {}, items: dynamoDBRequests }),
      );
    } else if (/^\/api\/v1\/namespaces\/[^/?]+$/.test((req.url ?? "").split("?")[0]!)) {
      const name = (req.url ?? "").split("?")[0]!.split("/").pop()!;
      const annotations = namespaces.get(name);
      if (annotations) res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, annotations } }));
      else {
        res.statusCode = 404;
        res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }));
      }
    } else if (table) {
      res.end(JSON.stringify(table));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const dir = await mkdtemp(join(tmpdir(), "kubeconfig-"));
  const kubeconfig = join(dir, "config");
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake", user: { token: "test-token" } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
      "current-context": "fake",
    }),
  );
  return { kubeconfig, tables, namespaces, dynamoDBRequests, requests, close: () => new Promise((r) => server.close(() => r())) };
}
