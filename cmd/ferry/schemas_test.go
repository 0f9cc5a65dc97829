package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/extensions"
	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/server"
)

// TestSchemasCommands declares an extension with ferry schemas add, lists
// and shows it, has a SCIM client store a value of it, and removes it:
// refused while the value is there, then with --force.
func TestSchemasCommands(t *testing.T) {
	t.Parallel()
	catalog := schema.Builtin()
	st := openSQLite(t, "ferry.db", catalog)
	srv := server.New(server.DefaultConfig(), st, catalog, slog.New(slog.DiscardHandler))
	srv.EnableAdmin(&stubAdmin{})
	as := ferrytest.Serve(t, st, srv.Handler())
	const urn = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

	ferry := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runCommand(t, "", append([]string{"schemas", args[0], "--server", as.URL, "--token", as.AdminToken}, args[1:]...)...)
		if code != wantCode {
			t.Fatalf("ferry schemas %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		return stdout, stderr
	}
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("ext.json", `{"id":"`+urn+`","name":"Custom","attributes":[{"name":"tag","description":"Entra's extensionAttribute1"},
		{"name":"level","type":"integer","returned":"always"}]}`)

	if _, stderr := ferry(1, "add", file("bad.json", `{"id":"`+urn+`","attributes":[{"name":"tag","type":"text"}]}`)); !strings.Contains(stderr, `unknown type "text"`) {
		t.Errorf("a bad type: %s", stderr)
	}
	if _, stderr := ferry(1, "add", file("array.json", `[]`)); !strings.Contains(stderr, "is not a JSON object") {
		t.Errorf("not an object: %s", stderr)
	}
	if _, stderr := ferry(1, "add", good, "--resource-type", "Device"); !strings.Contains(stderr, `--resource-type "Device"`) {
		t.Errorf("a bad resource type: %s", stderr)
	}
	out, _ := ferry(0, "add", good)
	if !strings.Contains(out, "Declared "+urn+" for Users (2 attributes)") {
		t.Errorf("add: %s", out)
	}
	if _, stderr := ferry(1, "add", good); !strings.Contains(stderr, "already declared") {
		t.Errorf("add twice: %s", stderr)
	}
	out, _ = ferry(0, "list")
	if !strings.Contains(squash(out), urn+" User Custom tag,level") {
		t.Errorf("list:\n%s", out)
	}
	out, _ = ferry(0, "show", urn)
	if !strings.Contains(squash(out), "level integer no no no readWrite always -") || !strings.Contains(out, "Resource type: User") {
		t.Errorf("show:\n%s", out)
	}
	out, _ = ferry(0, "show", urn, "--json")
	var v extensions.View
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID != urn {
		t.Errorf("show --json: %s", out)
	}

	r := ferrytest.Request(t, as.SCIMToken, "POST", as.URL+"/scim/v2/Users", "application/scim+json", `{"userName":"ada","`+urn+`:tag":"blue"}`)
	if r.Status != 201 || !strings.Contains(r.Raw, `"tag":"blue"`) {
		t.Fatalf("POST with the declared extension: %d %s", r.Status, r.Raw)
	}
	if _, stderr := ferry(1, "remove", urn); !strings.Contains(stderr, "1 User resource(s) hold values") || !strings.Contains(stderr, "--force") {
		t.Errorf("remove of a schema in use: %s", stderr)
	}
	out, _ = ferry(0, "remove", urn, "--force")
	if !strings.Contains(out, "Removed "+urn+" and its values from 1 resource.") {
		t.Errorf("remove --force: %s", out)
	}
	if out, _ := ferry(0, "list"); strings.Contains(out, urn) {
		t.Errorf("list after remove:\n%s", out)
	}
}
