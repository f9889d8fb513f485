package storage_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAdaptersImportNoHTTPLayer keeps the adapters on domain packages:
// nothing under storage/, tests included, may depend on the OAuth layer,
// the self-service flows and pages, or the wiring.
func TestAdaptersImportNoHTTPLayer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"provider", "selfservice", "login", "app", "esia"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == "github.com/gosid/gosid/"+f || strings.HasPrefix(dep, "github.com/gosid/gosid/"+f+"/") {
				t.Errorf("storage depends on %s", dep)
			}
		}
	}
}
