// RunPlugin: how the engine (v3.259) starts a plugin written in Node.js, above
// all a policy pack (`pulumi preview --policy-pack <dir>`). The engine reads the
// pack's PulumiPolicy.yaml, finds this language host on PATH and asks it to run
// the folder as an analyzer; only when no language host exists does it fall back
// to the old `pulumi-analyzer-policy` shim script. The contract followed here is
// the upstream Node.js host's:
//
//   - kind "analyzer": node <@pulumi/pulumi/cmd/run-policy-pack> [nodeargs]
//     <engine address> <policy pack folder>, in the pack's folder. The pack
//     (@pulumi/policy) serves the Analyzer gRPC service and prints its port.
//     In between stands the SDK's PolicyProxy (sdk.NewPolicyProxy, the same
//     library code upstream uses): the engine talks to the proxy first, and its
//     ConfigureStack call gives the stack's name, project, organization, dry-run
//     flag and config, which the pack's process gets as PULUMI_NODEJS_* and
//     PULUMI_CONFIG (so pulumi.getStack() and pulumi.Config work inside a pack);
//     then the proxy forwards every call to the pack.
//   - any other kind: node <@pulumi/pulumi/cmd/run-plugin> [nodeargs] <folder>
//     <args...>, in the engine's working directory.
//
// Not implemented: attaching a debugger, bun.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	if req.GetAttachDebugger() {
		return errors.New("this language host cannot attach a debugger to plugins")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	module := "@pulumi/pulumi/cmd/run-plugin"
	if analyzer {
		module = "@pulumi/pulumi/cmd/run-policy-pack"
	} else if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		module = p
	}
	runPath, err := resolveModule(ctx, node, dir, module)
	if err != nil {
		return err
	}

	args := append([]string{runPath}, opts.nodeargs...)
	if analyzer {
		// The pack's folder comes last for policy packs, first for every other plugin.
		args = append(append(args, req.GetArgs()...), dir)
	} else {
		args = append(append(args, dir), req.GetArgs()...)
	}
	env := append([]string{}, req.GetEnv()...)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	var proxy *sdk.PolicyProxy
	if analyzer {
		// The proxy prints its own port for the engine, then waits for the stack's configuration.
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack's configuration: %w", err)
		}
		if stack != nil {
			add := func(k, v string) {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			add("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
			add("PULUMI_NODEJS_PROJECT", stack.GetProject())
			add("PULUMI_NODEJS_STACK", stack.GetStack())
			add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
			if stack.GetConfig() != nil {
				b, err := json.Marshal(stack.GetConfig())
				if err != nil {
					return fmt.Errorf("could not marshal the stack's configuration: %w", err)
				}
				add("PULUMI_CONFIG", string(b))
			}
		}
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.WaitDelay = 5 * time.Second
	// Policy packs have always run in their own folder (they read their package.json from it).
	cmd.Dir = req.GetPwd()
	if analyzer {
		cmd.Dir = dir
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	logging.V(5).Infof("language host running plugin: %s", cmd)

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run node: %w", err)
	}
	if proxy != nil {
		// Reads the pack's port from its stdout, connects, forwards the configuration, and
		// returns when the pack exits (the engine ends it by cancelling this call).
		err = proxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("plugin exited with non-zero exit code: %d", ee.ExitCode())
		}
		return err
	}
	return closer.Close()
}

// resolveModule asks node where a module is, as seen from dir (the pack's folder, so the
// pack's own @pulumi/pulumi is used, or the one of a node_modules above it).
func resolveModule(ctx context.Context, node, dir, module string) (string, error) {
	script := `try { console.log(require.resolve(process.argv[1])) } catch (e) { ` +
		`console.error(e.code === 'MODULE_NOT_FOUND' ? 'cannot find ' + process.argv[1] + ': have you run npm install?' : e.message); process.exit(1) }`
	cmd := exec.CommandContext(ctx, node, "-e", script, module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("in %s: %s", dir, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
