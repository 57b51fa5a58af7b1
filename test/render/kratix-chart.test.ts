/**
 * Kratix's chart (syntasso/helm-charts b01ba1b, the chart of the image the product pins) rendered
 * by `helm template` with the product's values and the product's patch: the Kratix image reaches
 * both the manager and the ConfigMap that names the image of Kratix's own containers in every
 * pipeline pod. The chart's `image` value alone sets only the manager.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "mocha";
import { KRATIX_PIPELINE_ADAPTER_CONFIG, kratixValues, withPipelineAdapterImage } from "../../core/install/helm-values.ts";
import { NAMESPACES } from "../../core/install/namespaces.ts";
import { IMAGES } from "../../core/install/versions.ts";
import { helmTemplate, upstreamChart } from "../helpers/helm-template.ts";

interface Container {
  name: string;
  image: string;
  env?: { name: string; valueFrom?: { configMapKeyRef?: { name: string; key: string } } }[];
}
interface Obj {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: Container[] } } };
}

const chart = upstreamChart("kratix-chart-b01ba1b", "kratix");
const MIRRORED = "registry.example.com/mirror/kratix-platform:224e148";

describe("Kratix's chart with the product's values and pipeline adapter patch", function () {
  this.timeout(20 * 60_000);
  let rendered: Obj[] = [];
  before(async function () {
    rendered = await helmTemplate<Obj>(this, chart, "kratix", NAMESPACES.kratix, kratixValues(MIRRORED));
  });
  const patched = () => rendered.map((o) => withPipelineAdapterImage(o, MIRRORED) ?? o);
  const manager = (objects: Obj[]) =>
    objects
      .filter((o) => o.kind === "Deployment")
      .flatMap((o) => o.spec?.template?.spec?.containers ?? [])
      .find((c) => c.env?.some((e) => e.name === KRATIX_PIPELINE_ADAPTER_CONFIG.key))!;

  it("the manager reads its pipeline containers' image from the ConfigMap the patch sets", () => {
    const ref = manager(rendered).env!.find((e) => e.name === KRATIX_PIPELINE_ADAPTER_CONFIG.key)!.valueFrom?.configMapKeyRef;
    assert.deepEqual(ref, { name: KRATIX_PIPELINE_ADAPTER_CONFIG.name, key: KRATIX_PIPELINE_ADAPTER_CONFIG.key });
  });
  it("without the patch, the chart's `image` moves only the manager: the pipeline pods would pull upstream's digest (the pinned image, upstream's own pairing)", () => {
    assert.equal(manager(rendered).image, MIRRORED);
    const config = rendered.find((o) => o.kind === "ConfigMap" && o.metadata.name === KRATIX_PIPELINE_ADAPTER_CONFIG.name)!;
    assert.equal(config.data?.[KRATIX_PIPELINE_ADAPTER_CONFIG.key], IMAGES.kratix);
  });
  it("with the patch, the one ConfigMap names the manager's image, and nothing else changes", () => {
    const after = patched();
    const changed = after.filter((o, i) => o !== rendered[i]);
    assert.deepEqual(
      changed.map((o) => `${o.kind}/${o.metadata.name}`),
      [`ConfigMap/${KRATIX_PIPELINE_ADAPTER_CONFIG.name}`],
    );
    assert.equal(changed[0]!.data?.[KRATIX_PIPELINE_ADAPTER_CONFIG.key], manager(after).image);
  });
});
