package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// referenceRender is how the server rendered a resource before the read
// cache: the whole document decoded, projected and encoded in response
// order. The cached path must give the same bytes.
func referenceRender(t *testing.T, base string, res *store.Resource, rt *schema.ResourceType, include, exclude resource.Projection) []byte {
	t.Helper()
	d := resource.Project(fullDocument(res, rt, base), rt, include, exclude)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range orderedKeys(d) {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(d[k])
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// TestCachedProjection holds the cached path (stored bytes, fields encoded
// once, projected per request) to the reference rendering of the decoded
// document, for every projection a client can ask, on a cold and a warm
// cache, for users (with groups) and groups (with members).
func TestCachedProjection(t *testing.T) {
	t.Parallel()
	catalog := schema.Builtin()
	users, groups := catalog.ResourceType(store.UserType), catalog.ResourceType(store.GroupType)
	userDoc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + scim.EnterpriseUserURN + `"],
		"userName":"bjensen@example.com","externalId":"ext-<1>&","displayName":"Babs \"B\" Jensen","active":true,
		"title":"Tour Guide","nickName":"","x-unknown":{"kept":1.50},
		"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Ms. Barbara J Jensen, III"},
		"emails":[{"type":"work","value":"bjensen@example.com","primary":true},{"type":"home","value":"babs@jensen.org"}],
		"phoneNumbers":[{"type":"work","value":"555-555-8377"}],
		"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","postalCode":"91608"}],
		"` + scim.EnterpriseUserURN + `":{"employeeNumber":"701984","costCenter":"4130","manager":{"value":"26118915","displayName":"John Smith"}}}`
	groupDoc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Tour Guides","externalId":"g-1"}`
	decode := func(s string) (resource.Document, []byte) {
		d, err := resource.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(d)
		return d, b
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	ud, ub := decode(userDoc)
	gd, gb := decode(groupDoc)
	// An empty value is dropped by projection: such a document is never
	// written as it is stored.
	ed, eb := decode(userDoc[:len(userDoc)-1] + `,"ims":[],"x509Certificates":[{}]}`)
	resources := []struct {
		name string
		rt   *schema.ResourceType
		res  store.Resource
	}{
		{"user", users, store.Resource{TenantID: "t", Type: store.UserType, ID: "u-1", Doc: ud, DocJSON: ub, Version: 3, Created: created, LastModified: created.Add(time.Hour),
			Groups: []store.Member{{ID: "g-1", Type: store.GroupType, Display: "Tour Guides"}, {ID: "g-2", Type: store.GroupType}}}},
		{"user without groups", users, store.Resource{TenantID: "t", Type: store.UserType, ID: "u-2", Doc: ud, DocJSON: ub, Version: 1, Created: created, LastModified: created}},
		{"user with empty values", users, store.Resource{TenantID: "t", Type: store.UserType, ID: "u-3", Doc: ed, DocJSON: eb, Version: 2, Created: created, LastModified: created,
			Groups: []store.Member{{ID: "g-1", Type: store.GroupType, Display: "Tour Guides"}}}},
		{"group", groups, store.Resource{TenantID: "t", Type: store.GroupType, ID: "g-1", Doc: gd, DocJSON: gb, Version: 7, Created: created, LastModified: created,
			Members: []store.Member{{ID: "u-1", Type: store.UserType, Display: "Babs"}, {ID: "g-9", Type: store.GroupType, Display: "Nested"}}}},
		{"group without members", groups, store.Resource{TenantID: "t", Type: store.GroupType, ID: "g-2", Doc: gd, DocJSON: gb, Version: 1, Created: created, LastModified: created, Members: []store.Member{}}},
	}
	lists := []struct{ attributes, excluded string }{
		{"", ""},
		{"userName", ""},
		{"userName,emails.value", ""},
		{"emails.type,name.givenName", ""},
		{"meta.version,meta.location", ""},
		{"groups", ""},
		{"groups.display", ""},
		{"members.value", ""},
		{"displayName,members", ""},
		{scim.EnterpriseUserURN, ""},
		{scim.EnterpriseUserURN + ":manager.value", ""},
		{scim.EnterpriseUserURN + ":employeeNumber,userName", ""},
		{"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", ""},
		{"id", ""},
		{"nosuchattribute", ""},
		{"", "emails"},
		{"", "emails.primary,name.formatted"},
		{"", "meta"},
		{"", "meta.location"},
		{"", "groups"},
		{"", "members"},
		{"", "members.display"},
		{"", scim.EnterpriseUserURN},
		{"", scim.EnterpriseUserURN + ":manager"},
		{"", scim.EnterpriseUserURN + ":employeeNumber,costCenter,manager"},
		{"", "id,schemas"},
		{"", "nosuchattribute"},
		{"userName", "userName"},
	}
	srv := New(DefaultConfig(), nil, catalog, nil)
	for _, rc := range resources {
		for _, p := range lists {
			include, exclude := projections(rc.rt, p.attributes, p.excluded)
			r := httptest.NewRequest("GET", "http://ferry.example:8080/scim/v2/Users", nil)
			want := referenceRender(t, "http://ferry.example:8080/scim/v2", &rc.res, rc.rt, include, exclude)
			for _, pass := range []string{"cold", "warm"} {
				var got bytes.Buffer
				res := rc.res
				res.Doc = nil // as an encoded read returns it
				if err := srv.renderTo(&got, r, &res, rc.rt, include, exclude); err != nil {
					t.Fatalf("%s attributes=%q excludedAttributes=%q (%s): %v", rc.name, p.attributes, p.excluded, pass, err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s attributes=%q excludedAttributes=%q (%s cache):\n got %s\nwant %s", rc.name, p.attributes, p.excluded, pass, got.Bytes(), want)
				}
			}
		}
	}
}
