package expr_test

import (
	"fmt"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

func ExampleCompile() {
	users := schema.Builtin().ResourceType("User")
	attrs := expr.SchemaChecker(users, "IsSoftDeleted")

	e, err := expr.Compile(`Join(" ", [name.givenName], ToUpper([name.familyName]))`, attrs)
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := resource.Decode([]byte(`{"userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"}}`))
	v, err := e.Eval(expr.DocumentSource{Doc: doc, Type: users}, expr.Env{})
	fmt.Println(v.Text(), err)

	_, err = expr.Compile(`join(" ", [name.givenName])`, attrs)
	fmt.Println(err)
	_, err = expr.Compile(`DateAdd("q", 1, Now())`, attrs)
	fmt.Println(err)
	_, err = expr.Compile(`Left([userName], 3`, attrs)
	fmt.Println(err)
	// Output:
	// Barbara JENSEN <nil>
	// expression error at position 0: unknown function "join"; did you mean "Join"? Function names are case-sensitive
	// expression error at position 8: DateAdd argument 1 (interval) must be one of yyyy, m, d, ww, h, n, s, not "q"
	// expression error at position 18: expected "," or ")" in the arguments of Left, found end of input
}
