import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformDefaults } from "../core/api/types.ts";
import { validatePlatformDefaults } from "../core/api/plan.ts";
import { formatErrors } from "../core/api/validate.ts";
import { PROMISE_COMPONENT, renderPlatformApplication } from "../core/render/application.ts";
import type { TableProperties } from "../core/render/dynamodb-request.ts";
import { renderPromise, type DestinationSelector } from "../core/render/promise.ts";
import { IMAGES } from "../core/install/versions.ts";
import { teamRoles } from "../core/install/team-roles.ts";
import { NAMESPACES } from "../core/install/namespaces.ts";
import { tableArgErrors } from "../core/api/table-args.ts";
import { childOf } from "./helm.ts";
import { componentOptions, TOKEN_PREFIX } from "./token.ts";

export interface DynamoDBPromiseArgs {
  /** Promise name. Default aws-dynamodb-kratix. */
  name?: string;
  /** The kratix.io/promise-version label. Default v0.1.0; bump it to roll out a new pipeline image or API. */
  version?: string;
  /** The pipeline image (pipeline/Dockerfile), pinned by tag or digest. */
  pipelineImage?: string;
  /** Platform settings handed to the pipeline: default region, table name prefix. */
  defaults?: PlatformDefaults;
  /** Which Kratix destinations get the ACK Tables. Default [{matchLabels: {cluster-role: master}}]. */
  destinationSelectors?: DestinationSelector[];
  /**
   * Who applies the Promise. "kubevela" (default, the design's chain): the kratix-platform Application's
   * dynamodb-promise component. "pulumi": Pulumi applies it directly, for clusters without KubeVela.
   */
  delivery?: "kubevela" | "pulumi";
  /**
   * Namespace of the kratix-platform Application (and of its example table's request). Default
   * dynamodb-platform, a platform namespace this component makes and keeps on destroy: not
   * `default`, where teams may be able to write. Any other namespace must already exist.
   */
  applicationNamespace?: string;
  /** The Application's example-dynamodb-table component; omit for none. */
  exampleTable?: TableProperties;
  /**
   * Protect the object that owns the Promise (the Application, or the Promise) from deletion and
   * replacement. Default true: deleting a Promise deletes every request under it.
   */
  protect?: boolean;
  /**
   * With delivery "pulumi": leave the Promise on the cluster when Pulumi deletes it (`pulumi destroy`),
   * as the kubevela delivery's keep-promise rule does. The platform sets it when its admission guard
   * refuses the Promise's deletion. Default false.
   */
  retainOnDelete?: boolean;
  /** Wait for Kratix (and KubeVela) to report the Promise ready. Default true; off where no controllers run. */
  waitForReady?: boolean;
  /**
   * Grant DynamoDBRequests to the built-in roles: `edit` and `admin` make, change and delete them,
   * `view` reads them (aggregated ClusterRoles, core/install/team-roles.ts). Default true.
   */
  teamRoles?: boolean;
}

/** Pulumi's readiness check on the kratix-platform Application: its Promise component is healthy. */
export const PROMISE_COMPONENT_HEALTHY = `jsonpath={.status.services[?(@.name=="${PROMISE_COMPONENT}")].healthy}=true`;

/**
 * The aws-dynamodb-kratix Promise: API DynamoDBRequest (dynamodb.kratix.io/v1alpha1),
 * pipelines render-table and table-status on configure, report-delete on delete.
 */
export class DynamoDBPromise extends pulumi.ComponentResource {
  /** The Promise's name. */
  declare readonly promiseName: pulumi.Output<string>;
  /** The CRD the Promise serves (dynamodbrequests.dynamodb.kratix.io). */
  declare readonly crdName: pulumi.Output<string>;
  /** The kratix-platform Application, when delivered through KubeVela. */
  declare readonly applicationName: pulumi.Output<string | undefined>;
  /** The resource that owns the Promise (the Application, or the Promise itself): requests wait for it. */
  declare readonly owner: pulumi.Resource;

  constructor(name: string, args: DynamoDBPromiseArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(`${TOKEN_PREFIX}:DynamoDBPromise`, name, {}, componentOptions("DynamoDBPromise", opts));
    const defaultsErrors = validatePlatformDefaults(args.defaults ?? {}, "defaults");
    if (defaultsErrors.length) throw new pulumi.RunError(`DynamoDBPromise "${name}" is invalid:\n${formatErrors(defaultsErrors)}`);
    if (args.exampleTable) {
      const errors = tableArgErrors(args.exampleTable, args.defaults);
      if (errors.length)
        throw new pulumi.RunError(
          `DynamoDBPromise "${name}" exampleTable is invalid:\n${formatErrors(errors).replace(/^table/gm, "exampleTable")}`,
        );
    }
    const promise = renderPromise({
      pipelineImage: args.pipelineImage ?? IMAGES.pipeline,
      ...(args.name ? { name: args.name } : {}),
      ...(args.version ? { version: args.version } : {}),
      ...(args.defaults ? { defaults: args.defaults } : {}),
      ...(args.destinationSelectors ? { destinationSelectors: args.destinationSelectors } : {}),
    });
    const protect = args.protect ?? true;
    const wait = args.waitForReady ?? true;
    if ((args.delivery ?? "kubevela") === "pulumi") {
      this.owner = new k8s.apiextensions.CustomResource(
        `${name}-promise`,
        {
          apiVersion: promise.apiVersion,
          kind: promise.kind,
          metadata: {
            ...promise.metadata,
            annotations: wait ? { "pulumi.com/waitFor": "jsonpath={.status.status}=Available" } : { "pulumi.com/skipAwait": "true" },
          },
          spec: promise.spec,
        },
        // Available once Kratix has created the API and run the promise workflows.
        {
          ...childOf(this, opts),
          protect,
          ...(args.retainOnDelete ? { retainOnDelete: true } : {}),
          customTimeouts: { create: "30m", update: "30m" },
        },
      );
      this.applicationName = pulumi.output(undefined);
    } else {
      const namespace = args.applicationNamespace ?? NAMESPACES.application;
      // The platform's own namespace is made here. It is kept on destroy: it holds the example
      // table's request, and deleting a namespace deletes what is in it.
      const applicationNamespace =
        namespace === NAMESPACES.application
          ? new k8s.core.v1.Namespace(
              `${name}-application-ns`,
              { metadata: { name: namespace } },
              { ...childOf(this, opts), retainOnDelete: true },
            )
          : undefined;
      const app = renderPlatformApplication({
        promise,
        namespace,
        ...(args.exampleTable ? { exampleTable: args.exampleTable } : {}),
      });
      const application = new k8s.apiextensions.CustomResource(
        `${name}-application`,
        {
          apiVersion: app.apiVersion,
          kind: app.kind,
          metadata: {
            ...app.metadata,
            annotations: {
              ...app.metadata.annotations,
              ...(wait ? { "pulumi.com/waitFor": PROMISE_COMPONENT_HEALTHY } : { "pulumi.com/skipAwait": "true" }),
            },
          },
          spec: app.spec,
        },
        // Ready when the Promise component is healthy (Kratix reports the Promise Available), which is
        // what requests need; the example table's own health shows in the Application's status.
        {
          ...childOf(this, opts, applicationNamespace ? [applicationNamespace] : []),
          protect,
          customTimeouts: { create: "30m", update: "30m" },
        },
      );
      this.applicationName = application.metadata.name as pulumi.Output<string | undefined>;
      this.owner = application;
    }
    this.promiseName = pulumi.output(promise.metadata.name);
    if (args.teamRoles ?? true) {
      const roles = teamRoles(promise.metadata.name);
      new k8s.rbac.v1.ClusterRole(`${name}-requests-edit`, roles.edit, childOf(this, opts));
      new k8s.rbac.v1.ClusterRole(`${name}-requests-view`, roles.view, childOf(this, opts));
    }
    this.crdName = pulumi.output(promise.spec.api.metadata.name);
    this.registerOutputs({ promiseName: this.promiseName, crdName: this.crdName, applicationName: this.applicationName });
  }
}
