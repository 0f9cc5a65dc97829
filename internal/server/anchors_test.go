package server

import (
	"fmt"
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

func tenantTypeOf(tenant, typ string) store.TenantType {
	return store.TenantType{TenantID: tenant, Type: typ}
}

func commitReordering(tenant, typ string) store.Commit {
	return store.Commit{Reordered: []store.TenantType{tenantTypeOf(tenant, typ)}}
}

// TestAnchorsBounded checks that a type's anchors are thinned, not lost,
// past maxAnchors, that all of them stay under maxAnchorsTotal, and that
// anchorBefore finds the nearest anchor before a position.
func TestAnchorsBounded(t *testing.T) {
	c := newReadCache(1 << 20)
	c.own()
	at := c.begin(false)
	for pos := 1; pos <= 3*maxAnchors; pos++ {
		c.keepAnchor("t", "User", anchor{pos: pos, id: fmt.Sprint(pos)}, at)
	}
	if n := len(c.anchors[tenantTypeOf("t", "User")]); n > maxAnchors || n < maxAnchors/2 {
		t.Errorf("%d anchors kept of %d, want between %d and %d", n, 3*maxAnchors, maxAnchors/2, maxAnchors)
	}
	for _, start := range []int{2, 100, 3 * maxAnchors, 10 * maxAnchors} {
		a, ok := c.anchorBefore("t", "User", start)
		if !ok || a.pos >= start || a.id != fmt.Sprint(a.pos) {
			t.Fatalf("anchor before %d: %+v %v", start, a, ok)
		}
		// Thinning keeps every other anchor each time: the nearest is
		// never more than a few positions back.
		if start <= 3*maxAnchors && start-a.pos > 8 {
			t.Errorf("anchor before %d is at %d", start, a.pos)
		}
	}
	if _, ok := c.anchorBefore("t", "User", 1); ok {
		t.Error("an anchor before position 1")
	}
	for typ := range 2 * maxAnchorsTotal / maxAnchors {
		for pos := 1; pos <= maxAnchors; pos++ {
			c.keepAnchor("t", fmt.Sprint(typ), anchor{pos: pos, id: "x"}, at)
		}
		total := 0
		for _, list := range c.anchors {
			total += len(list)
		}
		if total != c.anchorCount || total > maxAnchorsTotal {
			t.Fatalf("%d anchors (counted %d), bound %d", total, c.anchorCount, maxAnchorsTotal)
		}
	}
	c.apply(commitReordering("t", "User"))
	if _, ok := c.anchorBefore("t", "User", 100); ok {
		t.Error("anchors kept after a create")
	}
	c.keepAnchor("t", "User", anchor{pos: 5, id: "late"}, at)
	if _, ok := c.anchorBefore("t", "User", 100); ok {
		t.Error("an anchor kept from a read that began before a commit")
	}
}
