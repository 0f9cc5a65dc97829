package scimclient

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// entraUser is the Create User body of
// https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#create-user.
const entraUser = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
	"userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
	"active": true,
	"emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
	"meta": {"resourceType": "User"},
	"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
	"roles": []
}`

// wireRequest is a request as a golden file shows it.
type wireRequest struct {
	Method string          `json:"method"`
	URI    string          `json:"uri"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// TestWireGolden pins, per profile, the exact requests each operation
// sends: method, URI and body, key order included.
func TestWireGolden(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name string
		// seed prepares the target; call runs the operation.
		seed func(*fakeTarget) string
		call func(ctx context.Context, c *Client, id string) error
	}{
		{
			name: "create-user",
			call: func(ctx context.Context, c *Client, _ string) error {
				doc, err := resource.Decode([]byte(entraUser))
				if err != nil {
					return err
				}
				_, _, err = c.Create(ctx, "Users", doc, nil)
				return err
			},
		},
		{
			name: "patch-user",
			seed: seedUser,
			call: func(ctx context.Context, c *Client, id string) error {
				_, err := c.Patch(ctx, "Users", id, []Operation{
					{Op: patch.Replace, Path: `emails[type eq "work"].value`, Value: "updatedEmail@microsoft.com"},
					{Op: patch.Replace, Path: "name.familyName", Value: "updatedFamilyName"},
					{Op: patch.Add, Path: "nickName", Value: "Babs"},
					{Op: patch.Add, Path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", Value: "m-42"},
					{Op: patch.Remove, Path: "title"},
					{Op: patch.Replace, Path: "active", Value: false},
				})
				return err
			},
		},
		{
			name: "disable-user",
			seed: seedUser,
			call: func(ctx context.Context, c *Client, id string) error {
				_, err := c.Patch(ctx, "Users", id, []Operation{{Op: patch.Replace, Path: "active", Value: false}})
				return err
			},
		},
		{
			name: "add-members",
			seed: seedGroup,
			call: func(ctx context.Context, c *Client, id string) error {
				return c.AddMembers(ctx, id, []string{"f648f8d5ea4e4cd38e9c", "u-2", "u-3", "u-4", "u-5"})
			},
		},
		{
			name: "remove-members",
			seed: seedGroup,
			call: func(ctx context.Context, c *Client, id string) error {
				return c.RemoveMembers(ctx, id, []string{"7f4bc1a3-285e-48ae-8202-5accb43efb0e", "u-2", "u-3", "u-4", "u-5"})
			},
		},
		{
			name: "find-group",
			call: func(ctx context.Context, c *Client, _ string) error {
				_, err := c.FindBy(ctx, "Groups", "displayName", `R&D "core" \ Ops`)
				return err
			},
		},
		{
			name: "get-group",
			seed: seedGroup,
			call: func(ctx context.Context, c *Client, id string) error {
				_, err := c.Get(ctx, "Groups", id, ReadOptions{})
				return err
			},
		},
		{
			name: "test-connection",
			call: func(ctx context.Context, c *Client, _ string) error { return c.TestConnection(ctx) },
		},
	}
	for _, profile := range []Profile{RFC7644, Entra} {
		for _, tc := range calls {
			t.Run(string(profile)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				tgt := newTarget(t)
				var id string
				if tc.seed != nil {
					id = tc.seed(tgt)
				}
				c, _, _ := newTestClient(t, tgt.base(), func(cfg *Config) {
					cfg.Profile = profile
					cfg.MemberChunk = 2
				})
				if err := tc.call(t.Context(), c, id); err != nil {
					t.Fatalf("call: %v", err)
				}
				var got []wireRequest
				for _, r := range tgt.requests() {
					checkHeaders(t, r)
					got = append(got, wireRequest{Method: r.Method, URI: r.URI, Body: r.Body})
				}
				compareGolden(t, filepath.Join("testdata", tc.name+"."+string(profile)+".json"), got)
			})
		}
	}
}

func seedUser(f *fakeTarget) string {
	return f.put("Users", resource.Document{"userName": "someone@example.com"})
}

func seedGroup(f *fakeTarget) string {
	return f.put("Groups", resource.Document{"displayName": "Sales"})
}

// checkHeaders asserts what every request carries.
func checkHeaders(t *testing.T, r recorded) {
	t.Helper()
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("%s %s: Authorization = %q", r.Method, r.URI, got)
	}
	if got := r.Header.Get("Accept"); got != "application/scim+json" {
		t.Errorf("%s %s: Accept = %q", r.Method, r.URI, got)
	}
	want := ""
	if len(r.Body) > 0 {
		want = "application/scim+json"
	}
	if got := r.Header.Get("Content-Type"); got != want {
		t.Errorf("%s %s: Content-Type = %q, want %q", r.Method, r.URI, got, want)
	}
}

// compareGolden compares got, indented, with the file, or writes the file
// with -update.
func compareGolden(t *testing.T, path string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("requests differ from %s\ngot:\n%s\nwant:\n%s", path, buf.Bytes(), want)
	}
}
