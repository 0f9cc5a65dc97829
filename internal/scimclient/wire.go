package scimclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/patch"
)

// Operation is one PATCH operation as the engine means it; the Client's
// Profile decides how it is written.
type Operation struct {
	// Op is patch.Add, patch.Replace or patch.Remove (any case).
	Op patch.Op
	// Path is an RFC 7644 attribute path, e.g. `emails[type eq "work"].value`;
	// empty for a path-less add or replace whose Value is an object.
	Path string
	// Value is a JSON-encodable value; nil sends null for add and replace
	// (which clears the attribute) and nothing for remove.
	Value any
}

// wireOp is an operation as sent; json.RawMessage lets a remove omit its
// value while an add or replace keeps an explicit null.
type wireOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

type patchBody struct {
	Schemas    []string `json:"schemas"`
	Operations []wireOp `json:"Operations"`
}

// member is one element of a members value.
type member struct {
	Value string `json:"value"`
}

// entraMember is a member added as Entra adds it, with "$ref": null.
type entraMember struct {
	Ref   *string `json:"$ref"`
	Value string  `json:"value"`
}

// opName writes op in the profile's spelling.
func (p Profile) opName(op patch.Op) string {
	if p == Entra {
		s := string(op)
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return string(op)
}

// wireValue adapts a value to the profile: Entra sends a boolean operation
// value as the string "True" or "False", as the request to disable users in
// https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility#flags-to-alter-the-scim-behavior
// shows. Only a value that is itself a boolean is changed; Entra's default
// flavour sends no path-less objects, and nested booleans (an email's
// primary) keep their JSON type.
func (p Profile) wireValue(v any) any {
	if b, ok := v.(bool); ok && p == Entra {
		if b {
			return "True"
		}
		return "False"
	}
	return v
}

// renderOps checks ops and writes them in the profile's form.
func (p Profile) renderOps(ops []Operation) ([]wireOp, error) {
	out := make([]wireOp, 0, len(ops))
	for i, o := range ops {
		op := patch.Op(strings.ToLower(string(o.Op)))
		switch op {
		case patch.Add, patch.Replace, patch.Remove:
		default:
			return nil, fmt.Errorf("operation %d: op %q is not add, replace or remove", i, o.Op)
		}
		if o.Path != "" {
			if _, err := filter.ParsePath(o.Path); err != nil {
				return nil, fmt.Errorf("operation %d: %w", i, err)
			}
		} else if op == patch.Remove {
			return nil, fmt.Errorf("operation %d: remove needs a path", i)
		}
		w := wireOp{Op: p.opName(op), Path: o.Path}
		if op != patch.Remove || o.Value != nil {
			raw, err := marshal(p.wireValue(o.Value))
			if err != nil {
				return nil, fmt.Errorf("operation %d: %w", i, err)
			}
			w.Value = raw
		}
		out = append(out, w)
	}
	return out, nil
}

// memberOps writes the operations that add or remove ids as group members.
func (p Profile) memberOps(op patch.Op, ids []string) []wireOp {
	if op == patch.Remove && p == RFC7644 {
		// One filtered remove per member: RFC 7644 §3.5.2.2 says a remove
		// of "members" with no filter removes them all, value or not.
		out := make([]wireOp, len(ids))
		for i, id := range ids {
			out[i] = wireOp{Op: string(patch.Remove), Path: memberPath(id)}
		}
		return out
	}
	var v any
	if p == Entra && op == patch.Add {
		ms := make([]entraMember, len(ids))
		for i, id := range ids {
			ms[i] = entraMember{Value: id}
		}
		v = ms
	} else {
		ms := make([]member, len(ids))
		for i, id := range ids {
			ms[i] = member{Value: id}
		}
		v = ms
	}
	raw, _ := marshal(v) // strings only: cannot fail
	return []wireOp{{Op: p.opName(op), Path: "members", Value: raw}}
}

// memberPath is `members[value eq "<id>"]`, with id quoted by the filter
// grammar's own rules.
func memberPath(id string) string {
	vp := &filter.ValuePath{
		Attr:   filter.AttrPath{Name: "members"},
		Filter: &filter.Compare{Path: filter.AttrPath{Name: "value"}, Op: filter.Eq, Value: filter.Value{Kind: filter.StringValue, Str: id}},
	}
	return vp.String()
}

func encodePatch(ops []wireOp) []byte {
	b, _ := marshal(patchBody{Schemas: []string{scim.PatchOpURN}, Operations: ops})
	return b
}

// marshal encodes v as compact JSON without HTML escaping: targets compare
// names such as "R&D" byte for byte and some do not decode \u0026.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
