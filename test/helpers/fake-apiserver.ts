/**
 * A loopback HTTP server that answers the calls the pipeline makes (GET an ACK Table, LIST
 * every DynamoDBRequest a page at a time, GET a Namespace, PATCH an ACK Table with a JSON merge
 * patch, GET, POST and PUT a ConfigMap), with a kubeconfig that points at it. Enough to test the pipeline's real Kubernetes client code path without a cluster,
 * including what a real API server does that a simple stub would not: pages (`limit` and
 * `continue`, with a page size of its own), a patch's preconditions (metadata.uid and
 * resourceVersion: 409 when they do not match, and a new resourceVersion after it), and failures (a status code for the next few
 * calls to a path, such as 503 while it restarts or 410 for an expired continue token).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { stringify } from "yaml";
import { mergePatch } from "./merge-patch.ts";

export interface FakeApiServer {
  kubeconfig: string;
  /** Tables served, by "namespace/name". */
  tables: Map<string, unknown>;
  /** ConfigMaps served and written, by "namespace/name". */
  configMaps: Map<string, { metadata: Record<string, unknown> } & Record<string, unknown>>;
  /** Namespaces' annotations, by name (a namespace not here does not exist). */
  namespaces: Map<string, Record<string, string>>;
  /** DynamoDBRequests the cluster-wide list returns. */
  dynamoDBRequests: unknown[];
  /** Paths (with query) requested so far. */
  requests: string[];
  /** The patches received (answered or not), in order. */
  patches: { path: string; contentType: string; fieldManager: string | null; body: unknown }[];
  /** Called on each patch before it is applied (a test changes the Table under the pipeline's feet). */
  onPatch?: (key: string) => void;
  /** The most items one page of a list holds, whatever `limit` the client asks for (a real server may return fewer too). */
  pageSize: number;
  /** Answers the next `times` requests whose path (with query) matches with `status` (Infinity: every one), and the Status's `message`. */
  fail(path: RegExp, times: number, status?: number, message?: string): void;
  /** Forgets the served objects, failures and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const notFound = { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 };

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const tables = new Map<string, unknown>();
  const configMaps: FakeApiServer["configMaps"] = new Map();
  const requests: string[] = [];
  const patches: FakeApiServer["patches"] = [];
  const hooks: { onPatch?: (key: string) => void } = {};
  const dynamoDBRequests: unknown[] = [];
  const namespaces = new Map<string, Record<string, string>>();
  const failures: { path: RegExp; remaining: number; status: number; message?: string }[] = [];
  const state = { pageSize: Number.MAX_SAFE_INTEGER };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => answer(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  const answer = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const path = url.pathname;
    requests.push(req.url ?? "");
    res.setHeader("content-type", "application/json");
    const send = (status: number, body: unknown) => {
      res.statusCode = status;
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== "Bearer test-token") return send(401, { kind: "Status", code: 401 });
    const t = /^\/apis\/dynamodb\.services\.k8s\.aws\/v1alpha1\/namespaces\/([^/]+)\/tables\/([^/]+)$/.exec(path);
    if (req.method === "PATCH")
      patches.push({
        path,
        contentType: req.headers["content-type"] ?? "",
        fieldManager: url.searchParams.get("fieldManager"),
        body: text ? (JSON.parse(text) as unknown) : undefined,
      });
    const failure = failures.find((f) => f.remaining > 0 && f.path.test(req.url ?? ""));
    if (failure) {
      failure.remaining--;
      return send(failure.status, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        code: failure.status,
        ...(failure.message ? { message: failure.message } : {}),
      });
    }
    if (/^\/apis\/dynamodb\.kratix\.io\/v1alpha1\/dynamodbrequests$/.test(path)) {
      const offset = Number(url.searchParams.get("continue") ?? 0);
      const limit = Math.min(Number(url.searchParams.get("limit") ?? Number.MAX_SAFE_INTEGER) || Number.MAX_SAFE_INTEGER, state.pageSize);
      const items = dynamoDBRequests.slice(offset, offset + limit);
      const next = offset + items.length < dynamoDBRequests.length ? String(offset + items.length) : undefined;
      return send(200, {
        apiVersion: "dynamodb.kratix.io/v1alpha1",
        kind: "DynamoDBRequestList",
        metadata: next ? { continue: next } : {},
        items,
      });
    }
    // ConfigMaps: a create of one that exists is 409 AlreadyExists; a replace must carry the live resourceVersion.
    const cm = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/.exec(path);
    if (cm) {
      const body = text ? (JSON.parse(text) as { metadata: Record<string, unknown> } & Record<string, unknown>) : undefined;
      const name = cm[2] ?? String(body?.metadata.name ?? "");
      const cmKey = `${cm[1]}/${name}`;
      const live = configMaps.get(cmKey);
      const stored = (o: { metadata: Record<string, unknown> } & Record<string, unknown>) => {
        const version = String(Number(live?.metadata.resourceVersion ?? 0) + 1);
        const saved = { ...o, metadata: { ...o.metadata, namespace: cm[1], resourceVersion: version } };
        configMaps.set(cmKey, saved);
        return saved;
      };
      if (req.method === "POST" && !cm[2])
        return live ? send(409, { kind: "Status", code: 409, reason: "AlreadyExists" }) : send(201, stored(body!));
      if (req.method === "PUT" && cm[2]) {
        if (!live) return send(404, notFound);
        if (body?.metadata.resourceVersion !== live.metadata.resourceVersion)
          return send(409, { kind: "Status", code: 409, reason: "Conflict", message: "the object has been modified" });
        return send(200, stored(body!));
      }
      return live ? send(200, live) : send(404, notFound);
    }
    const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
    if (ns) {
      const annotations = namespaces.get(ns[1]!);
      return annotations ? send(200, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns[1], annotations } }) : send(404, notFound);
    }
    const key = t ? `${t[1]}/${t[2]}` : "";
    if (t && req.method === "PATCH") {
      if (req.headers["content-type"] !== "application/merge-patch+json")
        return send(415, { kind: "Status", code: 415, message: `unsupported patch type ${String(req.headers["content-type"])}` });
      hooks.onPatch?.(key);
      const live = tables.get(key) as { metadata?: Record<string, unknown> } | undefined;
      if (!live) return send(404, notFound);
      const patch = JSON.parse(text) as { metadata?: Record<string, unknown> };
      for (const field of ["uid", "resourceVersion"])
        if (patch.metadata?.[field] !== undefined && patch.metadata[field] !== live.metadata?.[field])
          return send(409, { kind: "Status", code: 409, reason: "Conflict", message: `the object has been modified (${field})` });
      const patched = mergePatch(live, patch) as { metadata: Record<string, unknown> };
      patched.metadata.resourceVersion = String(Number(live.metadata?.resourceVersion ?? 0) + 1);
      tables.set(key, patched);
      return send(200, patched);
    }
    const table = t ? tables.get(key) : undefined;
    return table ? send(200, table) : send(404, notFound);
  };
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
  return {
    kubeconfig,
    tables,
    configMaps,
    namespaces,
    dynamoDBRequests,
    requests,
    patches,
    get onPatch() {
      return hooks.onPatch;
    },
    set onPatch(f) {
      hooks.onPatch = f;
    },
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(n: number) {
      state.pageSize = n;
    },
    fail: (path, times, status = 503, message) => void failures.push({ path, remaining: times, status, ...(message ? { message } : {}) }),
    reset: () => {
      tables.clear();
      configMaps.clear();
      namespaces.clear();
      dynamoDBRequests.splice(0);
      requests.splice(0);
      patches.splice(0);
      failures.splice(0);
      delete hooks.onPatch;
      state.pageSize = Number.MAX_SAFE_INTEGER;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
