// Package patch parses RFC 7644 §3.5.2 PATCH requests and applies them to
// resource documents atomically: every operation applies or none does.
//
// Besides the RFC's forms it accepts what Entra ID and Okta actually send:
// capitalised ops, booleans as strings, path-less values with dotted and
// URN-qualified keys, member removal by value array, adds to a filtered path
// that matches nothing, a manager given as a bare id, and empty or null
// values that clear. Entra's default and aadOptscim062020 forms are shown in
// https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility.
package patch

import (
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// Op is a PATCH operation kind.
type Op string

// The PATCH operation kinds of RFC 7644 §3.5.2, in their canonical lower case.
const (
	Add     Op = "add"
	Replace Op = "replace"
	Remove  Op = "remove"
)

// Operation is one PATCH operation.
type Operation struct {
	Op   Op
	Path *filter.Path // nil when the operation has no path
	// Value is the decoded JSON value (string, bool, json.Number, []any,
	// map[string]any), or nil when the operation carries none or null.
	Value any
}

// MaxOperations bounds the operations one request may carry, so that a
// hostile body cannot make one PATCH arbitrarily expensive. Entra sends one
// operation per changed attribute, far fewer than this.
const MaxOperations = 1000

// Parse decodes a PatchOp request body. Key names and op values are matched
// ignoring case, "Operations" may come before "schemas", and unknown keys
// (a stray top-level "id", an op's "name") are ignored. It returns an
// invalidSyntax, invalidPath, invalidValue or noTarget *scim.Error for a
// body that cannot be applied.
func Parse(data []byte) ([]Operation, error) {
	body, err := resource.Decode(data)
	if err != nil {
		return nil, err
	}
	if _, s, ok := resource.Lookup(body, "schemas"); ok && !listsPatchOp(s) {
		return nil, scim.BadRequest(scim.InvalidSyntax, "schemas must contain %q", scim.PatchOpURN)
	}
	_, raw, ok := resource.Lookup(body, "Operations")
	if !ok || raw == nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request has no Operations")
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "Operations must be an array")
	}
	if len(list) == 0 {
		return nil, scim.BadRequest(scim.InvalidValue, "Operations is empty")
	}
	if len(list) > MaxOperations {
		return nil, scim.Errorf(413, scim.TooMany, "request has %d operations, at most %d are allowed", len(list), MaxOperations)
	}
	ops := make([]Operation, 0, len(list))
	for i, item := range list {
		op, err := parseOperation(item)
		if err != nil {
			return nil, wrap(err, i, item)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// listsPatchOp reports whether schemas names the PatchOp message. A body
// without "schemas" is accepted; one that names only other messages is most
// likely sent to the wrong endpoint.
func listsPatchOp(v any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, scim.PatchOpURN) {
			return true
		}
	}
	return false
}

func parseOperation(item any) (Operation, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return Operation{}, scim.BadRequest(scim.InvalidSyntax, "an operation must be an object")
	}
	var op Operation
	_, rawOp, _ := resource.Lookup(m, "op")
	name, _ := rawOp.(string)
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "add":
		op.Op = Add
	case "replace":
		op.Op = Replace
	case "remove":
		op.Op = Remove
	default:
		return Operation{}, scim.BadRequest(scim.InvalidSyntax, `"op" must be "add", "replace" or "remove", got %v`, describe(rawOp))
	}
	if _, rawPath, ok := resource.Lookup(m, "path"); ok && rawPath != nil {
		s, ok := rawPath.(string)
		if !ok {
			return Operation{}, scim.BadRequest(scim.InvalidPath, `"path" must be a string`)
		}
		if strings.TrimSpace(s) != "" {
			p, err := filter.ParsePath(s)
			if err != nil {
				return Operation{}, err
			}
			op.Path = &p
		}
	}
	_, op.Value, _ = resource.Lookup(m, "value")
	if op.Path == nil {
		switch {
		case op.Op == Remove:
			return Operation{}, scim.BadRequest(scim.NoTarget, "a remove operation needs a path")
		case op.Value == nil:
			return Operation{}, scim.BadRequest(scim.InvalidValue, "an %s operation without a path needs a value", op.Op)
		}
		if _, ok := op.Value.(map[string]any); !ok {
			return Operation{}, scim.BadRequest(scim.InvalidValue, "an %s operation without a path needs an object value, got %s", op.Op, describe(op.Value))
		}
	}
	return op, nil
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%v", v)
	}
}

// wrap prefixes a *scim.Error's detail with the operation it came from.
func wrap(err error, i int, item any) error {
	e, ok := scim.AsError(err)
	if !ok {
		return fmt.Errorf("operation %d: %w", i+1, err)
	}
	where := fmt.Sprintf("operation %d", i+1)
	if op, ok := item.(Operation); ok {
		where = fmt.Sprintf("operation %d (%s", i+1, op.Op)
		if op.Path != nil {
			where += " " + op.Path.String()
		}
		where += ")"
	}
	return &scim.Error{Status: e.Status, ScimType: e.ScimType, Detail: where + ": " + e.Detail}
}
