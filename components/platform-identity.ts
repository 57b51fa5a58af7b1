import * as pulumi from "@pulumi/pulumi";
import type { AllowPlatformMoveConfig } from "../core/config/schema.ts";
import { IDENTITY_OUTPUT, checkPlatformMove, platformMoveMessage, type PlatformIdentity } from "../core/config/platform-identity.ts";

/**
 * Fails the program (a `pulumi.RunError`, before the caller registers anything else) when the
 * platform's identity differs from the one this stack recorded at its last update, unless
 * `allow` acknowledges each new value; core/config/platform-identity.ts decides and words it.
 *
 * The recorded identity is the stack's own previous output `platformIdentity`, read through a
 * StackReference to this very stack (`<organization>/<project>/<stack>`: "organization" on a
 * file or S3 backend). A StackReference is a read, which the engine performs in `preview` as
 * in `up`, and it reads the last completed update's outputs (a preview copy holds them too:
 * cli/preview-copy.ts). `deployedMarker` is an output every update of the program exports:
 * present without the identity, the stack was updated before the identity was recorded.
 * The caller exports the identity as `platformIdentity`.
 */
export async function checkPlatformIdentity(
  current: PlatformIdentity,
  allow: AllowPlatformMoveConfig | undefined,
  deployedMarker: string,
): Promise<void> {
  const self = new pulumi.StackReference("platform-identity", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const read = async (name: string) => {
    const d = await self.getOutputDetails(name);
    return d.value ?? d.secretValue;
  };
  const [recorded, marker] = await Promise.all([read(IDENTITY_OUTPUT), read(deployedMarker)]);
  const check = checkPlatformMove({ recorded, current, ...(allow ? { allow } : {}), deployedBefore: marker !== undefined });
  for (const note of check.notes) await pulumi.log.warn(note);
  const message = platformMoveMessage(check);
  if (message) throw new pulumi.RunError(message);
}
