package layering_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// imports lists, for every package of the module, the packages of the
// module it may import (its test files aside). A new package needs a line
// here, which is the moment to decide where it sits. Only cmd/chatd, which
// wires the server together, may import anything.
var imports = map[string][]string{
	"auth":                   {},
	"bench":                  {},
	"client":                 {"protocol"},
	"cmd/chat":               {"client", "protocol"},
	"cmd/chatbench":          {"bench"},
	"cluster/natsbus":        {"store"},
	"cmd/chatd":              {"*"},
	"hub":                    {"journal", "store"},
	"internal/layering":      {},
	"internal/servertest":    {"client", "server", "store/sqlite"},
	"internal/systemtest":    {},
	"journal":                {"store"},
	"metrics":                {"server"},
	"protocol":               {},
	"server":                 {"auth", "hub", "journal", "protocol", "store", "web"},
	"store":                  {},
	"store/internal/migrate": {},
	"store/internal/span":    {"store"},
	"store/memory":           {"store"},
	"store/postgres":         {"store", "store/internal/migrate", "store/internal/span"},
	"store/sqlite":           {"store", "store/internal/migrate", "store/internal/span"},
	"store/storetest":        {"store"},
	"web":                    {},
}

// The libraries each layer must not reach, directly or through another
// package (import path prefixes).
var (
	webSocket = []string{"github.com/gobwas/", "github.com/coder/websocket"}
	sql       = []string{"database/sql", "github.com/jackc/", "modernc.org/sqlite"}
	http      = []string{"net/http"}
	nats      = []string{"github.com/nats-io/"}
)

// forbidden lists what a package may not depend on at all. The hub and the
// journal know nothing of HTTP, SQL or the WebSocket library; protocol and
// client know nothing of the server's WebSocket library, so a client
// author's program does not compile it in.
var forbidden = map[string][][]string{
	"hub":      {http, sql, webSocket, nats},
	"journal":  {http, sql, webSocket},
	"protocol": {webSocket},
	"client":   {{"github.com/gobwas/"}},
}

// stdlibOnly lists the packages that hold contracts and so may import the
// standard library alone.
var stdlibOnly = []string{"store"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func TestPackagesImportOnlyWhatTheirLayerAllows(t *testing.T) {
	module, pkgs := listPackages(t)
	internal := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		return strings.CutPrefix(path, module+"/")
	}

	for _, p := range pkgs {
		name, _ := internal(p.ImportPath)
		allowed, ok := imports[name]
		if !ok {
			t.Errorf("package %s is not in the rules of this test: add it to imports with the packages it may use", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := internal(imp)
			if !ok || slices.Contains(allowed, "*") || slices.Contains(allowed, dep) {
				continue
			}
			t.Errorf("%s imports %s; it may import only %v of this module", name, dep, allowed)
		}
		for _, rules := range forbidden[name] {
			for _, dep := range p.Deps {
				for _, prefix := range rules {
					if strings.HasPrefix(dep, prefix) {
						t.Errorf("%s depends on %s, which its layer must not know", name, dep)
					}
				}
			}
		}
		if slices.Contains(stdlibOnly, name) {
			for _, dep := range p.Deps {
				if first, _, _ := strings.Cut(dep, "/"); strings.Contains(first, ".") {
					t.Errorf("%s depends on %s; it may use the standard library only", name, dep)
				}
			}
		}
	}
}

// listPackages returns the module's path and its packages as the go
// command sees them.
func listPackages(t *testing.T) (string, []pkg) {
	t.Helper()
	module := strings.TrimSpace(string(goCmd(t, "list", "-m")))
	out := goCmd(t, "list", "-json=ImportPath,Imports,Deps", module+"/...")
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list found no packages in %s", module)
	}
	return module, pkgs
}

func goCmd(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}
