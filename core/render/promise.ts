/**
 * The aws-dynamodb-kratix Kratix Promise (platform.kratix.io/v1alpha1,
 * cluster-scoped: no namespace). Its API is the generated DynamoDBRequest CRD;
 * its resource workflows run the pipeline image:
 *   configure: render-table (decide what the request may have: validity, table-name
 *              ownership, adoption approval; publish the ACK Table, the one held, or
 *              nothing) then table-status (read the Table back, write ARN and state,
 *              retry until ACTIVE; publishes nothing)
 *   delete:    report-delete (mark the request's Table released, so that Flux may prune it
 *              once Kratix removes the request's Works; say what happens to the AWS table)
 */
import { dynamoDBRequestCRD } from "../api/schema.ts";
import { API_GROUP, API_PLURAL } from "../api/rules.ts";
import { ACK_TABLE_API_VERSION } from "./ack-table.ts";
import type { PlatformDefaults } from "../api/types.ts";
import { ENV_ALLOWED_REGIONS, ENV_CONNECTION_CONFIGMAP, ENV_DEFAULT_REGION, ENV_TABLE_NAME_PREFIX } from "../kratix/env.ts";
import { DEFAULT_PROMISE_NAME } from "../kratix/steps.ts";
import { labelMapProblems, labelValueProblem } from "../k8s/metadata.ts";

export const PROMISE_API_VERSION = "platform.kratix.io/v1alpha1";
export const PROMISE_VERSION_LABEL = "kratix.io/promise-version";
/** The design's promise metadata (platform "aws", service "dynamodb"), as standard labels. */
export const PROMISE_PLATFORM_LABEL = "app.kubernetes.io/part-of";
export const PROMISE_SERVICE_LABEL = "app.kubernetes.io/name";
export const PIPELINE_KIND = "Pipeline";

/** Kratix names a pipeline's ServiceAccount and Job `<promise>-resource-<action>-<pipeline>`, at most 60 characters. */
export const MAX_PIPELINE_RESOURCE_NAME = 60;

export const PIPELINES = { render: "render-table", status: "table-status", delete: "report-delete" } as const;

/**
 * The ServiceAccount (and Job) name Kratix 224e148 gives a resource pipeline: the
 * PipelineFactory's ID (api/v1alpha1/pipeline_types.go ForResource), which is the
 * ServiceAccount's name unless the Pipeline names one (pipeline_factory.go serviceAccount).
 * It lives in the request's namespace, or in workflows.config.pipelineNamespace when set.
 */
export const resourcePipelineName = (promiseName: string, action: "configure" | "delete", pipeline: string) =>
  `${promiseName}-resource-${action}-${pipeline}`;

export interface DestinationSelector {
  matchLabels: Record<string, string>;
}

export interface PromiseOptions {
  /** Promise name; also the tag kratix.io/promise-name on every table. */
  name?: string;
  /** The kratix.io/promise-version label. Bump it to roll out a new pipeline or API. */
  version?: string;
  /** The pipeline image (pipeline/Dockerfile), pinned by tag or digest. */
  pipelineImage: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Platform-wide settings passed to the pipeline. */
  defaults?: PlatformDefaults;
  /** Destinations the ACK Tables are written to. The design's single cluster: cluster-role=master. */
  destinationSelectors?: DestinationSelector[];
  /**
   * Kratix's spec.workflows.config.pipelineNamespace: run every pipeline (and keep every
   * Work) in this existing namespace instead of the request's, where a tenant with `edit`
   * could run pods as the pipelines' service accounts (NAMESPACES.pipelines is the one
   * meant for it). Off by default: in Kratix 224e148 it is not safe for two requests of
   * one name in different namespaces. Their Works share one folder of the state store
   * (internal/controller/workplacement_controller.go getDir: resources/<Work's
   * namespace>/<promise>/<request name>/<pipeline>/<group id>, and the default group's id
   * is the same for every request), so each overwrites the other's Table; and deleting one
   * deletes the other's Works (dynamic_resource_request_controller.go deleteWork ->
   * GetAllWorksForResource, which selects by promise and request name only), so Flux
   * prunes a table of another tenant's, which ACK deletes under deletionPolicy Delete.
   */
  pipelineNamespace?: string;
}

export const DEFAULT_PROMISE_VERSION = "v0.1.0";
export const DEFAULT_DESTINATION_SELECTORS: DestinationSelector[] = [{ matchLabels: { "cluster-role": "master" } }];

/**
 * Each pipeline container's requests and limits: a Node.js process reading one request
 * (and, in render-table, a page of 250 requests at a time) fits well within them. Limits
 * are required by namespaces whose ResourceQuota or LimitRange demands them.
 */
export const PIPELINE_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
} as const;

/**
 * What Pod Security `restricted` demands of every container, and more (read-only root
 * filesystem). Kratix's own containers in the pipeline pod (reader, work-writer,
 * status-writer) carry the same (kratixSecurityContext, api/v1alpha1/pipeline_types.go),
 * and the pod's volumes are emptyDirs and a ConfigMap, so the pod is admitted where
 * `restricted` is enforced.
 */
export const PIPELINE_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

const ACK_TABLE_GROUP = ACK_TABLE_API_VERSION.split("/")[0]!;

/**
 * Each pipeline's permissions (Kratix binds a permission without resourceNamespace in the
 * namespace the pipeline runs in, one with "*" cluster-wide: pipeline_factory.go role,
 * clusterRole). render-table decides ownership before it publishes, so it reads every
 * request's table name, the platform team's adoption approvals on namespaces, and the
 * Tables of the request and of its rivals (in their namespaces); table-status only reads
 * its request's Table, which is in the request's namespace, where it runs, unless the
 * pipelines run in a namespace of their own, and writes its connection ConfigMap there. report-delete gets and patches its request's
 * Table there: it adds the release mark (core/kratix/release.ts), and the table guard lets
 * it change nothing else (Kratix 224e148 binds a delete pipeline's permissions as any
 * other's: the PipelineFactory makes the Role for either action, and createDeletePipeline
 * applies it with the Job, lib/workflow/reconciler.go).
 */
export function pipelinePermissions(o: Pick<PromiseOptions, "pipelineNamespace">) {
  const getTables = { apiGroups: [ACK_TABLE_GROUP], resources: ["tables"], verbs: ["get"] };
  const releaseTables = { apiGroups: [ACK_TABLE_GROUP], resources: ["tables"], verbs: ["get", "patch"] };
  const own = <T extends object>(p: T) => (o.pipelineNamespace ? { ...p, resourceNamespace: "*" } : p);
  return {
    render: [
      { apiGroups: [API_GROUP], resources: [API_PLURAL], verbs: ["list"], resourceNamespace: "*" },
      { apiGroups: [""], resources: ["namespaces"], verbs: ["get"], resourceNamespace: "*" },
      { ...getTables, resourceNamespace: "*" },
    ],
    // The connection ConfigMap (core/kratix/connection.ts): read, made and kept current, never deleted
    // (the request owns it: the garbage collector removes it with the request). Only where the pipeline
    // runs in the request's namespace: from a pipeline namespace it would be every namespace's ConfigMaps.
    status: o.pipelineNamespace
      ? [own(getTables)]
      : [getTables, { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "update"] }],
    delete: [own(releaseTables)],
  };
}

function pipeline(name: string, step: "configure" | "status" | "delete", o: PromiseOptions, extra: Record<string, unknown> = {}) {
  const env = [
    ...(o.defaults?.defaultRegion ? [{ name: ENV_DEFAULT_REGION, value: o.defaults.defaultRegion }] : []),
    ...(o.defaults?.tableNamePrefix ? [{ name: ENV_TABLE_NAME_PREFIX, value: o.defaults.tableNamePrefix }] : []),
    ...(o.defaults?.allowedRegions ? [{ name: ENV_ALLOWED_REGIONS, value: o.defaults.allowedRegions.join(",") }] : []),
    ...(step === "status" && o.pipelineNamespace ? [{ name: ENV_CONNECTION_CONFIGMAP, value: "off" }] : []),
  ];
  return {
    apiVersion: PROMISE_API_VERSION,
    kind: PIPELINE_KIND,
    metadata: { name },
    spec: {
      containers: [
        {
          name: step,
          image: o.pipelineImage,
          ...(o.imagePullPolicy ? { imagePullPolicy: o.imagePullPolicy } : {}),
          args: [step],
          ...(env.length ? { env } : {}),
          securityContext: PIPELINE_SECURITY_CONTEXT,
          resources: PIPELINE_RESOURCES,
        },
      ],
      ...extra,
    },
  };
}

/** Problems with label values a Promise would carry or select on, as `where: problem`. */
export function promiseLabelProblems(o: Pick<PromiseOptions, "version" | "destinationSelectors">): string[] {
  const problems: string[] = [];
  const version = o.version ?? DEFAULT_PROMISE_VERSION;
  const v = labelValueProblem(version);
  if (v) problems.push(`version (the ${PROMISE_VERSION_LABEL} label): ${v}`);
  (o.destinationSelectors ?? []).forEach((s, i) =>
    problems.push(...labelMapProblems(s.matchLabels, `destinationSelectors[${i}].matchLabels`)),
  );
  return problems;
}

export function renderPromise(o: PromiseOptions) {
  const name = o.name ?? DEFAULT_PROMISE_NAME;
  const labelProblems = promiseLabelProblems(o);
  if (labelProblems.length) throw new Error(`promise "${name}" cannot be rendered:\n${labelProblems.join("\n")}`);
  for (const [action, p] of [
    ["configure", PIPELINES.render],
    ["configure", PIPELINES.status],
    ["delete", PIPELINES.delete],
  ] as const) {
    const full = resourcePipelineName(name, action, p);
    if (full.length > MAX_PIPELINE_RESOURCE_NAME) {
      throw new Error(
        `promise name "${name}" is too long: Kratix would name a pipeline "${full}" (${full.length} > ${MAX_PIPELINE_RESOURCE_NAME})`,
      );
    }
  }
  const permissions = pipelinePermissions(o);
  return {
    apiVersion: PROMISE_API_VERSION,
    kind: "Promise",
    metadata: {
      name,
      labels: {
        [PROMISE_VERSION_LABEL]: o.version ?? DEFAULT_PROMISE_VERSION,
        [PROMISE_PLATFORM_LABEL]: "aws",
        [PROMISE_SERVICE_LABEL]: "dynamodb",
      },
    },
    spec: {
      api: dynamoDBRequestCRD(o.defaults?.allowedRegions ? { allowedRegions: o.defaults.allowedRegions } : {}),
      destinationSelectors: o.destinationSelectors ?? DEFAULT_DESTINATION_SELECTORS,
      workflows: {
        ...(o.pipelineNamespace ? { config: { pipelineNamespace: o.pipelineNamespace } } : {}),
        resource: {
          configure: [
            pipeline(PIPELINES.render, "configure", { ...o, name }, { rbac: { permissions: permissions.render } }),
            pipeline(PIPELINES.status, "status", { ...o, name }, { rbac: { permissions: permissions.status } }),
          ],
          delete: [pipeline(PIPELINES.delete, "delete", { ...o, name }, { rbac: { permissions: permissions.delete } })],
        },
      },
    },
  };
}

export type KratixPromise = ReturnType<typeof renderPromise>;
