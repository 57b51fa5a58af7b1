import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentDefinitions } from "../core/kubevela/definitions.ts";
import { velaCoreValues } from "../core/install/helm-values.ts";
import { NAMESPACES } from "../core/install/namespaces.ts";
import { CHARTS, type ChartPin } from "../core/install/versions.ts";
import { childOf, pinnedChart } from "./helm.ts";
import { componentOptions, TOKEN_PREFIX } from "./token.ts";

export interface KubeVelaDefinitionsArgs {
  /** Install vela-core itself (Helm chart vela-core, pinned). Default false: most clusters already run KubeVela. */
  installVelaCore?: boolean;
  /** Override the vela-core chart pin. */
  velaCoreChart?: ChartPin;
  /** Extra Helm values for vela-core, merged over the defaults (single cluster, cert-manager webhook certificates). */
  velaCoreValues?: pulumi.Input<Record<string, unknown>>;
  /** Namespace of KubeVela's system definitions. Default vela-system. */
  namespace?: string;
}

/**
 * The ComponentDefinitions kratix-promise-deployer and aws-dynamodb-kratix (from
 * definitions/components/*.cue) in vela-system, and optionally vela-core.
 */
export class KubeVelaDefinitions extends pulumi.ComponentResource {
  /** Names of the ComponentDefinitions installed. */
  declare readonly definitionNames: pulumi.Output<string[]>;
  /** Namespace the definitions live in. */
  declare readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: KubeVelaDefinitionsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(`${TOKEN_PREFIX}:KubeVelaDefinitions`, name, {}, componentOptions("KubeVelaDefinitions", opts));
    const namespace = args.namespace ?? NAMESPACES.vela;
    let after: pulumi.Resource[] = [];
    if (args.installVelaCore) {
      const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: namespace } }, childOf(this, opts));
      const values = pulumi.output(args.velaCoreValues ?? {}).apply((extra) => ({ ...velaCoreValues(), ...extra }));
      after = [pinnedChart(`${name}-vela-core`, args.velaCoreChart ?? CHARTS.velaCore, namespace, values, childOf(this, opts, [ns]))];
    }
    const defs = componentDefinitions(namespace).map(
      (def) =>
        new k8s.apiextensions.CustomResource(
          `${name}-${def.metadata.name}`,
          { apiVersion: def.apiVersion, kind: def.kind, metadata: def.metadata, spec: def.spec },
          childOf(this, opts, after),
        ),
    );
    this.definitionNames = pulumi.output(defs.map((d) => d.metadata.name));
    this.namespace = pulumi.output(namespace);
    this.registerOutputs({ definitionNames: this.definitionNames, namespace: this.namespace });
  }
}
