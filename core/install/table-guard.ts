/**
 * The table guard: a ValidatingAdmissionPolicy (and its binding) under which only
 * the platform's own service accounts may create, change or delete ACK Tables
 * (dynamodb.services.k8s.aws). Without it anyone allowed to create Tables in any
 * namespace could adopt, delete or share a platform table, bypassing the
 * DynamoDBRequest API and its Retain default.
 *
 * Allowed to write (create, update, delete): the service account Flux applies
 * Kratix's output as (FLUX_APPLIER: the Tables, and prunes them), and the ACK controller,
 * which updates their metadata (finalizers, annotations). Allowed to delete only:
 * the kube-controller-manager's identities that delete objects (namespace deletion
 * and garbage collection; `system:kube-controller-manager` itself, or its
 * per-controller service accounts with `--use-service-account-credentials`, as on EKS).
 * Status (`tables/status`) is not guarded: only the ACK controller writes it.
 */
import { ACK_SERVICE_ACCOUNT, NAMESPACES } from "./namespaces.ts";
import { FLUX_APPLIER } from "./kratix-objects.ts";

/** The policy's and the binding's name. */
export const TABLE_GUARD_NAME = "kratix-dynamodb-table-writers";

/** The username the API server gives a service account. */
export const serviceAccountUser = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/** The service account Flux applies Kratix's output as, and the ACK controller in `ackNamespace`. */
export const tableWriters = (ackNamespace: string = NAMESPACES.ack): string[] => [
  serviceAccountUser(NAMESPACES.flux, FLUX_APPLIER),
  serviceAccountUser(ackNamespace, ACK_SERVICE_ACCOUNT),
];
/** tableWriters() in the platform's namespaces. */
export const DEFAULT_TABLE_WRITERS: readonly string[] = tableWriters();
/** The kube-controller-manager, as itself or as its namespace and garbage-collector controllers. */
export const DEFAULT_TABLE_DELETERS: readonly string[] = [
  "system:kube-controller-manager",
  serviceAccountUser("kube-system", "namespace-controller"),
  serviceAccountUser("kube-system", "generic-garbage-collector"),
];

export interface TableGuardArgs {
  /** Usernames that may create, update and delete Tables. Default DEFAULT_TABLE_WRITERS. */
  writers?: readonly string[];
  /** Usernames that may only delete Tables. Default DEFAULT_TABLE_DELETERS. */
  deleters?: readonly string[];
  /** Name of the policy and its binding. Default TABLE_GUARD_NAME. */
  name?: string;
}

/** A CEL list literal of strings (JSON's string escapes are valid CEL). */
const celList = (items: readonly string[]) => `[${items.map((i) => JSON.stringify(i)).join(", ")}]`;

/** The policy's denial message: who may write Tables, and what application teams use instead. */
export function tableGuardMessage(writers: readonly string[], deleters: readonly string[]): string {
  return (
    `ACK Tables (dynamodb.services.k8s.aws) are written only by the DynamoDB platform: ` +
    `create, update and delete by ${writers.join(", ")}` +
    (deleters.length ? `; delete also by ${deleters.join(", ")}` : "") +
    `. Application teams: ask for a table with a DynamoDBRequest (dynamodb.kratix.io/v1alpha1).`
  );
}

/** The ValidatingAdmissionPolicy and its ValidatingAdmissionPolicyBinding (validationActions Deny). */
export function tableGuard(args: TableGuardArgs = {}) {
  const writers = [...(args.writers ?? DEFAULT_TABLE_WRITERS)];
  const deleters = [...(args.deleters ?? DEFAULT_TABLE_DELETERS)];
  const name = args.name ?? TABLE_GUARD_NAME;
  if (writers.length === 0) throw new Error("tableGuard: writers is empty: nobody could create a Table");
  for (const u of [...writers, ...deleters]) if (!u.trim()) throw new Error("tableGuard: an empty username");
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ["dynamodb.services.k8s.aws"],
            apiVersions: ["*"],
            // Not tables/status: the ACK controller writes it, and nothing else reads it as an instruction.
            resources: ["tables"],
            operations: ["CREATE", "UPDATE", "DELETE"],
          },
        ],
      },
      variables: [
        { name: "writers", expression: celList(writers) },
        { name: "deleters", expression: celList(deleters) },
      ],
      validations: [
        {
          expression:
            `request.userInfo.username in variables.writers || ` +
            `(request.operation == "DELETE" && request.userInfo.username in variables.deleters)`,
          message: tableGuardMessage(writers, deleters),
          reason: "Forbidden",
        },
      ],
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name },
    spec: { policyName: name, validationActions: ["Deny"] },
  };
  return { policy, binding };
}
