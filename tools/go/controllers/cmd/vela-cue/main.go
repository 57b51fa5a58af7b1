// Command vela-cue evaluates KubeVela definitions with KubeVela's own code, at the
// version vela-core runs (github.com/oam-dev/kubevela v1.10.9, CUE v0.9.2), so the
// project's tests judge the CUE in definitions/ exactly as the controller will.
//
// It reads one JSON request per line on stdin and writes one JSON answer per line
// on stdout, so a test keeps one process for many evaluations:
//
//	{"op":"render","template":"...","parameter":{...},"context":{"name":"c","namespace":"ns","appName":"app"}}
//	    -> {"output":{...}}            the component's output, as vela-core renders it
//	{"op":"schema","template":"..."}
//	    -> {"schema":{...}}            the parameter schema vela-core stores in component-schema-<name>
//	{"op":"status","healthPolicy":"...","customStatus":"...","output":{...},"parameter":{...}}
//	    -> {"healthy":true,"message":"..."}  the health and status message vela-core derives
//	{"op":"definition","source":"..."}
//	    -> {"object":{...}}            what `vela def apply` makes of a definition file
//
// Any failure is {"error":"..."} with KubeVela's message. No Kubernetes client is used.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/kubevela/pkg/cue/cuex"
	"github.com/oam-dev/kubevela/pkg/cue/definition"
	"github.com/oam-dev/kubevela/pkg/cue/definition/health"
	velaprocess "github.com/oam-dev/kubevela/pkg/cue/process"
	vdef "github.com/oam-dev/kubevela/pkg/definition"
	"github.com/oam-dev/kubevela/pkg/schema"
)

type request struct {
	Op        string                 `json:"op"`
	Template  string                 `json:"template"`
	Source    string                 `json:"source"`
	Parameter map[string]interface{} `json:"parameter"`
	Context   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		AppName   string `json:"appName"`
	} `json:"context"`
	HealthPolicy string                 `json:"healthPolicy"`
	CustomStatus string                 `json:"customStatus"`
	Output       map[string]interface{} `json:"output"`
}

type answer map[string]interface{}

func render(r *request) (answer, error) {
	name := r.Context.Name
	pctx := velaprocess.NewContext(velaprocess.ContextData{
		Namespace: r.Context.Namespace, AppName: r.Context.AppName, CompName: name,
		AppRevisionName: r.Context.AppName + "-v1", Ctx: context.Background(),
	})
	params := r.Parameter
	if params == nil {
		params = map[string]interface{}{}
	}
	pctx.SetParameters(params)
	if err := definition.NewWorkloadAbstractEngine(name).Complete(pctx, r.Template, params); err != nil {
		return nil, err
	}
	base, _ := pctx.Output()
	u, err := base.Unstructured()
	if err != nil {
		return nil, err
	}
	return answer{"output": u.Object}, nil
}

func openAPISchema(r *request) (answer, error) {
	s, err := schema.ParsePropertiesToSchema(context.Background(), r.Template)
	if err != nil {
		return nil, err
	}
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return answer{"schema": v}, nil
}

func status(r *request) (answer, error) {
	// vela-core's template context for status policies: the live object as context.output.
	ctx := map[string]interface{}{"output": r.Output, "outputs": map[string]interface{}{}}
	res, err := health.GetStatus(ctx, &health.StatusRequest{Health: r.HealthPolicy, Custom: r.CustomStatus, Parameter: r.Parameter})
	if err != nil {
		return nil, err
	}
	return answer{"healthy": res.Healthy, "message": res.Message}, nil
}

func defFromSource(r *request) (answer, error) {
	def := vdef.Definition{}
	if err := def.FromCUEString(r.Source, nil); err != nil {
		return nil, err
	}
	return answer{"object": def.Object}, nil
}

func handle(line []byte) (a answer) {
	defer func() {
		if p := recover(); p != nil {
			a = answer{"error": fmt.Sprintf("panic: %v", p)}
		}
	}()
	var r request
	if err := json.Unmarshal(line, &r); err != nil {
		return answer{"error": "bad request: " + err.Error()}
	}
	var err error
	switch r.Op {
	case "render":
		a, err = render(&r)
	case "schema":
		a, err = openAPISchema(&r)
	case "status":
		a, err = status(&r)
	case "definition":
		a, err = defFromSource(&r)
	default:
		err = fmt.Errorf("unknown op %q", r.Op)
	}
	if err != nil {
		return answer{"error": err.Error()}
	}
	return a
}

func main() {
	// The default compiler would otherwise load external CUE packages from a cluster.
	cuex.EnableExternalPackageForDefaultCompiler = false
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		if len(in.Bytes()) == 0 {
			continue
		}
		if err := enc.Encode(handle(in.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
