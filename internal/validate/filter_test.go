package validate

import (
	"slices"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// TestFilterCasesAgreeWithEvaluator checks every filter check's expected
// answer against the protocol core's evaluator run over the fixture: a
// wrong expectation in a check would otherwise fail correct endpoints. It
// also proves each filter sent is valid RFC 7644 syntax.
func TestFilterCasesAgreeWithEvaluator(t *testing.T) {
	t.Parallel()
	users := schema.Builtin().ResourceType("User")
	f := &filterFixture{prefix: "fv-0000test-flt001-", ids: map[string]string{}, labels: map[string]string{}, docs: map[string]map[string]any{}}
	now := time.Now().UTC().Format(time.RFC3339)
	for label, body := range filterFixtureBodies(f.prefix) {
		doc, err := resource.Normalize(resource.Document(body), users)
		if err != nil {
			t.Fatalf("%s: the fixture is not a valid User: %v", label, err)
		}
		doc["id"] = "id-" + label
		doc["meta"] = map[string]any{"created": now, "lastModified": now, "resourceType": "User"}
		f.ids[label], f.labels["id-"+label], f.docs[label] = "id-"+label, label, doc
	}
	for _, fc := range filterCases() {
		t.Run(fc.id, func(t *testing.T) {
			expr, err := filter.Parse(f.scope(fc.expr(f)))
			if err != nil {
				t.Fatalf("the filter is not valid: %v", err)
			}
			var got []string
			for _, label := range filterLabels() {
				if filter.Match(expr, f.docs[label], users) {
					got = append(got, label)
				}
			}
			if !slices.Equal(got, fc.want) {
				t.Errorf("the evaluator selects %v, the check expects %v", got, fc.want)
			}
		})
	}
}
