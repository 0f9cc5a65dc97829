package provision

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// ringcentralUsers is the compiled user mapping of the ringcentral
// template: plain, multi-valued with filters, complex and extension
// attributes.
func ringcentralUsers(t testing.TB) *compiledObject {
	t.Helper()
	cfg, err := loadTemplate("ringcentral")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TenantURL = "https://target.example.com/scim/v2"
	c, err := compile(cfg, schema.Builtin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.objects[0]
}

// listedUser is a user as a target lists it: what the mappings read and
// as much again that they do not.
func listedUser(i int) resource.Document {
	doc, err := resource.Decode(fmt.Appendf(nil, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"id": "2819c223-7f76-453a-919d-%012d",
		"externalId": "ext-%d",
		"userName": "user%06d@example.com",
		"name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
		"displayName": "Babs Jensen",
		"nickName": "Babs",
		"profileUrl": "https://login.example.com/bjensen",
		"title": "Tour Guide",
		"userType": "Employee",
		"preferredLanguage": "en-US",
		"locale": "en-US",
		"timezone": "America/Los_Angeles",
		"active": true,
		"emails": [{"value": "user%06d@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
		"addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}],
		"phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
		"photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios", "division": "Theme Park", "department": "Tour Operations", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}},
		"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3694e05e9dff591\"", "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"}
	}`, i, i, i, i))
	if err != nil {
		panic(err)
	}
	return doc
}

// TestCompactKeepsWhatTheMappingsRead: a listed object kept compact
// observes, matches and is found by id as the whole object does, and
// keeps nothing the mappings do not read.
func TestCompactKeepsWhatTheMappingsRead(t *testing.T) {
	co := ringcentralUsers(t)
	full := listedUser(7)
	idx := newTargetIndex(co)
	if err := idx.add(co, full); err != nil {
		t.Fatal(err)
	}
	id, _ := full.String("id")
	kept := idx.get(id)
	if kept == nil {
		t.Fatalf("the user is not found by id %s", id)
	}
	if got, want := co.observed(kept), co.observed(full); !reflect.DeepEqual(got, want) || len(want) < 10 {
		t.Errorf("observed from the compact form:\n%v\nfrom the listed object:\n%v", got, want)
	}
	for _, gone := range []string{"photos", "meta", "nickName", "schemas"} {
		if _, ok := kept[gone]; ok {
			t.Errorf("the compact form keeps %s, which no mapping reads", gone)
		}
	}
	ext, _ := kept["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if len(ext) != 1 || ext["department"] != "Tour Operations" {
		t.Errorf("the enterprise extension kept: %v, want its department only", ext)
	}
	if docs := idx.lookup("userName", "USER000007@example.com"); len(docs) != 1 || docs[0]["id"] != id {
		t.Errorf("lookup by userName, in another case: %v", docs)
	}
}

// heapAfterGC is the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkTargetIndex measures what a full cycle keeps of a listed target
// per user: the compact JSON the index holds, against the decoded
// documents it held before cursors let it list targets of any size.
//
//	FERRY_BENCH_TARGET_USERS=100000 go test -run '^$' -bench TargetIndex ./internal/provision/
func BenchmarkTargetIndex(b *testing.B) {
	co := ringcentralUsers(b)
	n := BenchTargetUsers(b, 10000)
	b.Run("compact", func(b *testing.B) {
		for b.Loop() {
			before := heapAfterGC()
			idx := newTargetIndex(co)
			for i := range n {
				if err := idx.add(co, listedUser(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(heapAfterGC()-before)/float64(n), "heap-B/user")
			runtime.KeepAlive(idx)
		}
	})
	b.Run("documents", func(b *testing.B) {
		for b.Loop() {
			before := heapAfterGC()
			byID := map[string]resource.Document{}
			byName := map[string][]resource.Document{}
			for i := range n {
				d := listedUser(i)
				id, _ := d.String("id")
				name, _ := d.String("userName")
				byID[id] = d
				byName[name] = append(byName[name], d)
			}
			b.ReportMetric(float64(heapAfterGC()-before)/float64(n), "heap-B/user")
			runtime.KeepAlive(byID)
			runtime.KeepAlive(byName)
		}
	})
}
