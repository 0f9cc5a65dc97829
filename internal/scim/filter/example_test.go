package filter_test

import (
	"fmt"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/schema"
)

func ExampleParse() {
	// The form Entra ID sends to match a user by work email.
	e, err := filter.Parse(`emails[type eq "work"].value eq "bjensen@example.com"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)

	users := schema.Builtin().ResourceType("User")
	doc := map[string]any{
		"userName": "bjensen",
		"emails":   []any{map[string]any{"type": "work", "value": "BJensen@example.com"}},
	}
	fmt.Println(filter.Match(e, doc, users))

	_, err = filter.Parse(`userName eq`)
	fmt.Println(err)
	// Output:
	// emails[(type eq "work" and value eq "bjensen@example.com")]
	// true
	// scim 400 invalidFilter: invalid filter at position 11: expected a value (string, number, true, false or null), found end of input
}
