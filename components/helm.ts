import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../core/install/versions.ts";

/** A pinned chart as Pulumi's helm.v4.Chart (rendered like `helm template`, applied by Pulumi; no hooks run). */
export function pinnedChart(
  name: string,
  pin: ChartPin,
  namespace: pulumi.Input<string>,
  values: pulumi.Input<Record<string, unknown>>,
  opts: pulumi.ComponentResourceOptions,
): k8s.helm.v4.Chart {
  return new k8s.helm.v4.Chart(
    name,
    {
      chart: pin.chart,
      version: pin.version,
      ...(pin.repo ? { repositoryOpts: { repo: pin.repo } } : {}),
      namespace,
      values,
    },
    opts,
  );
}
