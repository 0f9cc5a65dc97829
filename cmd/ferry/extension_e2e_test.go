package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// costCenterURN is the extension schema the application (ferry serve B)
// declares, named as Entra names the attributes an administrator adds to
// an application's attribute list.
const costCenterURN = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"

// TestExtensionFerryToFerry maps a directory attribute to an extension
// attribute that the application declares: B declares the extension with
// ferry schemas add, A's Test Connection discovers it in B's /Schemas,
// a mapping to it saves, and A's engine provisions the value into B,
// where it is stored, returned and filterable.
func TestExtensionFerryToFerry(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")

	scimB := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB))
	adminB := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB, "--scope", "admin"))
	scimA := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA))
	adminA := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA, "--scope", "admin"))
	addrB := startFerry(t, dbB).addr
	// A provisions into B on loopback, which it connects to only when allowed.
	addrA := startFerry(t, dbA, "--secret-key-file", filepath.Join(dir, "a.key"),
		"--engine-poll-interval", "100ms", "--egress-allow", "loopback").addr

	// B declares the extension.
	decl := filepath.Join(dir, "costcenter.json")
	if err := os.WriteFile(decl, []byte(`{"id":"`+costCenterURN+`","name":"CustomExtension","attributes":[
		{"name":"costCenter","type":"string","multiValued":false,"required":false,"caseExact":false,"mutability":"readWrite","returned":"default","uniqueness":"none"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	envB := []string{"FERRY_SERVER=http://" + addrB, "FERRY_TOKEN=" + adminB}
	ferryCLI(t, envB, "schemas", "add", decl, "--resource-type", "User")

	a := scimClient{"http://" + addrA, scimA, &http.Client{}}
	b := scimClient{"http://" + addrB, scimB, &http.Client{}}
	status, _, doc := a.do(t, "POST", "/Users", `{"userName":"dana@example.com","active":true,"name":{"givenName":"Dana","familyName":"Example"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"CC-4711"}}`)
	if status != 201 {
		t.Fatalf("create dana in A: %d %v", status, doc)
	}

	envA := []string{"FERRY_SERVER=http://" + addrA, "FERRY_TOKEN=" + adminA}
	ferryCLI(t, envA, "apps", "create", "--name", "app", "--template", "scim",
		"--tenant-url", "http://"+addrB+"/scim/v2", "--secret-token", scimB, "--scope", "all")
	mapping := fmt.Sprintf(`{"type":"direct","source":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","target":%q}`,
		costCenterURN+":costCenter")
	// Before discovery the RFC schemas apply, and they lack the extension.
	if out, code := updateMappings(t, "http://"+addrA, adminA, dir, mapping); code == 0 || !strings.Contains(out, "does not define this attribute") {
		t.Fatalf("a mapping to an undiscovered extension: exit %d\n%s", code, out)
	}
	ferryCLI(t, envA, "apps", "test-connection", "app")
	if out := ferryCLI(t, envA, "apps", "schema", "app"); !strings.Contains(out, costCenterURN+":costCenter") || !strings.Contains(out, "discovered") {
		t.Fatalf("ferry apps schema does not list the discovered extension:\n%s", out)
	}
	if out, code := updateMappings(t, "http://"+addrA, adminA, dir, mapping); code != 0 {
		t.Fatalf("the mapping to the discovered extension was refused: exit %d\n%s", code, out)
	}
	ferryCLI(t, envA, "apps", "start", "app")

	eventually(t, 30*time.Second, func() string {
		u := findUser(t, b, "dana@example.com")
		if u == nil {
			return "dana is not in B"
		}
		ext, _ := u[costCenterURN].(map[string]any)
		if ext["costCenter"] != "CC-4711" {
			return fmt.Sprintf("dana in B has no costCenter CC-4711: %v", u)
		}
		return ""
	})
	// B stores the value as its declared attribute: a filter finds it.
	status, _, list := b.do(t, "GET", "/Users?filter="+strings.ReplaceAll(costCenterURN+`:costCenter+eq+"CC-4711"`, `"`, "%22"), "")
	if rs, _ := list["Resources"].([]any); status != 200 || len(rs) != 1 {
		t.Errorf("B's filter on the extension found %v (%d)", list, status)
	}
}

// updateMappings adds mapping (JSON of one attribute mapping) to the Users
// object of the application app on server, through ferry apps show --json
// and ferry apps update --config-file, and returns the update's output
// (stdout and stderr) and exit code.
func updateMappings(t *testing.T, server, adminToken, dir, mapping string) (string, int) {
	t.Helper()
	env := []string{"FERRY_SERVER=" + server, "FERRY_TOKEN=" + adminToken}
	var app struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(ferryCLI(t, env, "apps", "show", "app", "--json")), &app); err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal([]byte(mapping), &m); err != nil {
		t.Fatal(err)
	}
	objects, _ := app.Config["objects"].([]any)
	found := false
	for _, o := range objects {
		obj := o.(map[string]any)
		if obj["sourceType"] == "User" {
			obj["attributes"] = append(obj["attributes"].([]any), m)
			found = true
		}
	}
	if !found {
		t.Fatalf("the application has no User mappings: %v", app.Config)
	}
	b, err := json.Marshal(map[string]any{"config": app.Config})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "config.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runFerry(t, adminToken, time.Minute, "apps", "update", "app", "--server", server, "--config-file", file)
	return stdout + stderr, code
}
