/**
 * The `kratix-platform` KubeVela Application of the design: the component
 * `dynamodb-promise` (kratix-promise-deployer) deploys the Promise, and
 * `example-dynamodb-table` (aws-dynamodb-kratix) asks it for a table once the
 * Promise is healthy (dependsOn; KubeVela waits for the health policy).
 *
 * Deleting a Promise deletes every request under it and, through them, their
 * tables; a garbage-collect policy therefore keeps the Promise when the
 * Application is deleted or the component is dropped, and a take-over policy
 * lets a new kratix-platform Application manage the kept Promise again.
 */
import { createHash } from "node:crypto";
import { DYNAMODB_DEFINITION, PROMISE_DEPLOYER_DEFINITION, definitionsDigest } from "../kubevela/definitions.ts";
import type { KratixPromise } from "./promise.ts";
import { PROMISE_PLATFORM_LABEL, PROMISE_SERVICE_LABEL, PROMISE_VERSION_LABEL } from "./promise.ts";
import type { TableProperties } from "./dynamodb-request.ts";
import { NAMESPACES } from "../install/namespaces.ts";

export const PLATFORM_APPLICATION = "kratix-platform";
export const PROMISE_COMPONENT = "dynamodb-promise";
export const EXAMPLE_TABLE_COMPONENT = "example-dynamodb-table";

/** The properties kratix-promise-deployer takes, from a rendered Promise. */
export function promiseDeployerProperties(promise: KratixPromise) {
  const labels = promise.metadata.labels;
  return {
    name: promise.metadata.name,
    version: labels[PROMISE_VERSION_LABEL],
    platform: labels[PROMISE_PLATFORM_LABEL],
    service: labels[PROMISE_SERVICE_LABEL],
    api: promise.spec.api,
    workflows: promise.spec.workflows,
    destinationSelectors: promise.spec.destinationSelectors,
  };
}

export interface PlatformApplicationOptions {
  name?: string;
  namespace?: string;
  promise: KratixPromise;
  /** The design's example table; omit for none. */
  exampleTable?: TableProperties;
}

/**
 * The Application's app.oam.dev/publishVersion: a digest of everything it carries,
 * its spec (the Promise with its pipeline image and version, the example table)
 * and the definitions' templates. With a publishVersion set, KubeVela re-renders
 * only when the value changes, so any change Pulumi makes must change it.
 */
export function publishVersion(spec: unknown): string {
  return `r-${createHash("sha256").update(definitionsDigest()).update(JSON.stringify(spec)).digest("hex").slice(0, 12)}`;
}

export function renderPlatformApplication(o: PlatformApplicationOptions) {
  const spec = applicationSpec(o);
  return {
    apiVersion: "core.oam.dev/v1beta1",
    kind: "Application",
    metadata: {
      name: o.name ?? PLATFORM_APPLICATION,
      namespace: o.namespace ?? NAMESPACES.application,
      annotations: { "app.oam.dev/publishVersion": publishVersion(spec) },
    },
    spec,
  };
}

function applicationSpec(o: PlatformApplicationOptions) {
  return {
    components: [
      {
        name: PROMISE_COMPONENT,
        type: PROMISE_DEPLOYER_DEFINITION,
        properties: promiseDeployerProperties(o.promise),
      },
      ...(o.exampleTable
        ? [{ name: EXAMPLE_TABLE_COMPONENT, type: DYNAMODB_DEFINITION, dependsOn: [PROMISE_COMPONENT], properties: o.exampleTable }]
        : []),
    ],
    policies: [
      {
        name: "keep-promise",
        type: "garbage-collect",
        properties: { rules: [{ selector: { componentNames: [PROMISE_COMPONENT] }, strategy: "never" }] },
      },
      // ...and takes that Promise back when the Application is made again (a reinstall, a new stack):
      // without it vela-core refuses "Promise exists but not managed by any application now".
      {
        name: "adopt-kept-promise",
        type: "take-over",
        properties: { rules: [{ selector: { componentNames: [PROMISE_COMPONENT] } }] },
      },
    ],
  };
}
