package server

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

// TestSchemasSeenAcrossReplicas declares an extension schema through one
// PostgreSQL replica after the other has kept the tenant's catalog for its
// GETs by id (versionedCatalogs), then writes a value of it through the
// first: the other's next GET by id, with or without a projection naming
// the new attribute, answers with the declarations as they are now.
func TestSchemasSeenAcrossReplicas(t *testing.T) {
	t.Parallel()
	p := newReplicaPair(t, "postgres")
	const urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	id := p.create(t, "/Users", `{"userName":"ann@example.com"}`)
	get := func(path string) (int, map[string]any, string) {
		t.Helper()
		return p.call(p.b, "GET", path, "")
	}
	// b keeps the tenant's catalog, without the extension.
	if status, _, raw := get("/Users/" + id); status != http.StatusOK {
		t.Fatalf("GET: %d %s", status, raw)
	}
	// A projection naming an attribute no schema declares selects
	// nothing of it (RFC 7644 §3.9 leaves the rest to the server).
	projected := "/Users/" + id + "?attributes=" + url.QueryEscape(urn+":costCenter")
	if status, doc, raw := get(projected); status != http.StatusOK || doc[urn] != nil {
		t.Fatalf("GET naming an attribute no schema declares: %d %s", status, raw)
	}

	tenant, err := p.store.EnsureTenant(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	ext := &store.SchemaExtension{TenantID: tenant.ID, URN: urn, ResourceType: store.UserType,
		Definition: []byte(`{"id":"` + urn + `","name":"AcmeUser","attributes":[{"name":"costCenter","type":"string"}]}`)}
	if err := p.store.AddSchema(context.Background(), ext); err != nil {
		t.Fatal(err)
	}
	p.patch(t, "/Users/"+id, `{"op":"add","path":"`+urn+`:costCenter","value":"CC-7"}`)
	status, doc, raw := get(projected)
	if status != http.StatusOK {
		t.Fatalf("GET naming the declared attribute through the other replica: %d %s", status, raw)
	}
	if v, _ := get2(doc, urn, "costCenter"); v != "CC-7" || doc["userName"] != nil {
		t.Errorf("GET naming the declared attribute: %s, want its value CC-7 alone", raw)
	}
	if _, doc, raw := get("/Users/" + id); doc[urn] == nil {
		t.Errorf("GET after the declaration through the other replica: %s, want the extension's values", raw)
	}

	if _, err := p.store.RemoveSchema(context.Background(), tenant.ID, urn, true); err != nil {
		t.Fatal(err)
	}
	if status, doc, raw := get("/Users/" + id); status != http.StatusOK || doc[urn] != nil {
		t.Errorf("GET after the schema's removal through the other replica: %d %s, want no values of it", status, raw)
	}
}

// get2 reads doc[a][b].
func get2(doc map[string]any, a, b string) (any, bool) {
	m, ok := doc[a].(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := m[b]
	return v, ok
}
