package scoping_test

import (
	"encoding/json"
	"fmt"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/provision/scoping"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

func ExampleSet_Compile() {
	users := schema.Builtin().ResourceType("User")

	// As the admin API receives it: Entra's operator names, any case.
	var set scoping.Set
	_ = json.Unmarshal([]byte(`[
		{"title": "Sales", "clauses": [
			{"attribute": "department", "operator": "EQUALS", "value": "Sales"},
			{"attribute": "userName", "operator": "regex match", "value": "@contoso\\.com$"}]},
		{"title": "Admins", "clauses": [
			{"attribute": "title", "operator": "Includes", "value": "Admin"}]}]`), &set)

	m, err := set.Compile(users)
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := resource.Decode([]byte(`{"userName": "jo@contoso.com", "title": "Domain Admin",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Engineering"}}`))
	fmt.Println(m.Match(expr.DocumentSource{Doc: doc, Type: users}))

	set[1].Clauses[0].Attribute = "emails"
	fmt.Println(set.Validate(users))
	// Output:
	// true <nil>
	// scoping filter 2 ("Admins"), clause 1: attribute "emails" is multi-valued, and scoping filters support only single-valued attributes; select one value with a filter such as emails[type eq "work"].value
}
