/**
 * The aws-dynamodb-kratix Kratix Promise (platform.kratix.io/v1alpha1,
 * cluster-scoped: no namespace). Its API is the generated DynamoDBRequest CRD;
 * its resource workflows run the pipeline image:
 *   configure: render-table (validate, write the ACK Table) then table-status
 *              (read the Table back, write ARN and state, retry until ACTIVE)
 *   delete:    report-delete (say what happens to the AWS table)
 */
import { dynamoDBRequestCRD } from "../api/schema.ts";
import { API_GROUP, API_PLURAL } from "../api/rules.ts";
import { ACK_TABLE_API_VERSION } from "./ack-table.ts";
import type { PlatformDefaults } from "../api/types.ts";
import { ENV_DEFAULT_REGION, ENV_TABLE_NAME_PREFIX } from "../kratix/env.ts";
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
}

export const DEFAULT_PROMISE_VERSION = "v0.1.0";
export const DEFAULT_DESTINATION_SELECTORS: DestinationSelector[] = [{ matchLabels: { "cluster-role": "master" } }];

function pipeline(name: string, step: "configure" | "status" | "delete", o: PromiseOptions, extra: Record<string, unknown> = {}) {
  const env = [
    ...(o.defaults?.defaultRegion ? [{ name: ENV_DEFAULT_REGION, value: o.defaults.defaultRegion }] : []),
    ...(o.defaults?.tableNamePrefix ? [{ name: ENV_TABLE_NAME_PREFIX, value: o.defaults.tableNamePrefix }] : []),
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
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
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
    const full = `${name}-resource-${action}-${p}`;
    if (full.length > MAX_PIPELINE_RESOURCE_NAME) {
      throw new Error(
        `promise name "${name}" is too long: Kratix would name a pipeline "${full}" (${full.length} > ${MAX_PIPELINE_RESOURCE_NAME})`,
      );
    }
  }
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
      api: dynamoDBRequestCRD(),
      destinationSelectors: o.destinationSelectors ?? DEFAULT_DESTINATION_SELECTORS,
      workflows: {
        resource: {
          configure: [
            pipeline(PIPELINES.render, "configure", { ...o, name }),
            pipeline(
              PIPELINES.status,
              "status",
              { ...o, name },
              {
                rbac: {
                  permissions: [
                    // The request's ACK Table (in the request's namespace): one get, no list or watch.
                    { apiGroups: [ACK_TABLE_API_VERSION.split("/")[0]!], resources: ["tables"], verbs: ["get"] },
                    // Every request's table name, in every namespace: a name belongs to one request
                    // (core/kratix/table-claims.ts). Kratix binds a "*" permission cluster-wide.
                    { apiGroups: [API_GROUP], resources: [API_PLURAL], verbs: ["list"], resourceNamespace: "*" },
                    // Namespaces' annotations: the platform team's adoption approvals (core/kratix/adoption.ts).
                    { apiGroups: [""], resources: ["namespaces"], verbs: ["get"], resourceNamespace: "*" },
                  ],
                },
              },
            ),
          ],
          delete: [pipeline(PIPELINES.delete, "delete", { ...o, name })],
        },
      },
    },
  };
}

export type KratixPromise = ReturnType<typeof renderPromise>;
