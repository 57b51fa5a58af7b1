/**
 * pulumi.runtime.setMocks with a recorder: every registration's type, name,
 * parent, dependencies, protect flag and raw (serialized) inputs, so tests can
 * check ordering and secrecy, which MockResourceArgs alone does not show.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  dependencies: string[];
  protect: boolean;
  inputs: Record<string, unknown>;
  /** The inputs as sent to the engine, secrets still wrapped (JSON text). */
  wire: string;
  urn?: string;
}

export const ACCOUNT = "111122223333";
/** What the mock "cluster" reports back for a DynamoDBRequest, as the status step would write it. */
export const arnFor = (region: string, table: string) => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${table}`;

export async function setupMocks(project: string, opts: { preview?: boolean } = {}): Promise<Registration[]> {
  const recorded: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        // What AWS would fill in: physical names and ARNs.
        if (args.type === "aws:s3/bucket:Bucket") state.bucket ??= `${args.name}-0123abcd`;
        if (args.type.startsWith("aws:")) state.arn ??= `arn:aws:${args.type.split(":")[1]!.split("/")[0]}::${ACCOUNT}:${args.name}`;
        if (args.type.startsWith("aws:iam/")) state.name ??= args.name;
        if (args.type === "aws:iam/accessKey:AccessKey") state.secret = "mock-secret-access-key";
        if (args.type === "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest") {
          const spec = args.inputs.spec as { name: string; region?: string };
          state.status = { tableArn: arnFor(spec.region ?? "us-west-2", spec.name), tableStatus: "ACTIVE", message: "table is ACTIVE" };
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
          return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: "AIDA" };
        if (args.token === "aws:index/getPartition:getPartition") return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        throw new Error(`unmocked call ${args.token}`);
      },
    },
    project,
    "test",
    opts.preview ?? false,
  );
  type Req = {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  };
  type Cb = (err: unknown, resp?: { getUrn(): string }) => void;
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: Cb): void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const wire = req.getObject()?.toJavaScript() ?? {};
    const r: Registration = {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      protect: req.getProtect(),
      inputs: wire,
      wire: JSON.stringify(wire),
    };
    recorded.push(r);
    original(req, (err, resp) => {
      if (resp) r.urn = resp.getUrn();
      cb(err, resp);
    });
  };
  return recorded;
}

/** Resolves an Output's value (mocks, not preview). */
export const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => (r(v), v)));

/** Lets pending registrations finish. */
export const settle = () => new Promise((r) => setTimeout(r, 50));

/** Pulumi's marker for a secret value on the wire. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
