// The pack's entry. It is JavaScript on purpose: @pulumi/pulumi's run-policy-pack (what
// `pulumi preview --policy-pack` starts) registers its own old ts-node for .ts files, which
// would compile a TypeScript entry with its own settings. An ES module entry goes to Node's
// loader instead, and Node 24 runs the TypeScript it imports itself, as everywhere else here.
import "./pack.ts";
