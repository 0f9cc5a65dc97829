package patch_test

import (
	"encoding/json"
	"fmt"

	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

func ExampleApply() {
	groups := schema.Builtin().ResourceType("Group")
	group, _ := resource.Decode([]byte(`{"displayName":"Admins","members":[{"value":"u1"},{"value":"u2"}]}`))

	// Entra removes one member with a value array and no filter: only the
	// listed member goes.
	ops, err := patch.Parse([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, changed, err := patch.Apply(group, groups, ops)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(out["members"])
	fmt.Println(string(b), changed)
	// Output: [{"value":"u2"}] true
}
