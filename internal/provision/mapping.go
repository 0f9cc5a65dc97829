package provision

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
)

// desired is what an object's mappings give: the target value of each
// mapped attribute that has one.
type desired struct {
	// values are by the mapping's target path as configured.
	values map[string]any
	// redacted marks values that logs must not show.
	redacted map[string]bool
	// refs are reference attributes (a manager), by target path: the
	// source id of the referenced object, sent as its target id once
	// resolved.
	refs map[string]string
}

// mappingError is a failure the engine finds before sending anything: a
// value the target requires is missing, an expression fails, and so on.
type mappingError struct {
	code   scimclient.Code
	reason string
}

func (e *mappingError) Error() string { return e.reason }

// Codes of failures the engine finds before sending anything.
const (
	codeMandatoryFieldsMissing   scimclient.Code = "MandatoryFieldsMissing"
	codeSchemaPropertyOneValue   scimclient.Code = "SchemaPropertyCanOnlyAcceptValue"
	codeExpressionFailed         scimclient.Code = "InvalidExpression"
	codeImportSkipped            scimclient.Code = "ImportSkipped"
	codeEntrySynchronizationSkip scimclient.Code = "EntrySynchronizationSkipped"
	codeDuplicateSourceEntries   scimclient.Code = "DuplicateSourceEntries"
)

// evaluate computes the mappings of co for the source document src. create
// says the object is about to be created: OnlyOnCreate mappings and
// default values apply only then.
func (co *compiledObject) evaluate(src resource.Document, softDeleted, create bool, env expr.Env) (*desired, error) {
	d := &desired{values: map[string]any{}, redacted: map[string]bool{}, refs: map[string]string{}}
	source := expr.DocumentSource{Doc: src, Type: co.source,
		Virtual: map[string]expr.Value{isSoftDeleted: expr.BoolValue(softDeleted), "id": idValue(src)}}
	for _, ca := range co.attrs {
		if ca.Apply == ApplyOnCreate && !create {
			continue
		}
		if ca.kind == kindReference {
			v, err := source.Attribute(ca.refSource)
			if err != nil {
				return nil, &mappingError{codeExpressionFailed, fmt.Sprintf("%s: %v", ca.Target, err)}
			}
			if id := v.Text(); id != "" {
				d.refs[ca.Target] = id
			}
			continue
		}
		var v expr.Value
		switch ca.Type {
		case Constant:
			v = expr.StringValue(ca.Source)
		case Direct, Expression:
			var err error
			if v, err = ca.expr.Eval(source, env); err != nil {
				return nil, &mappingError{codeExpressionFailed, fmt.Sprintf("%s: %v", ca.Target, err)}
			}
			if v.Ignored() {
				continue
			}
		}
		if v.IsNullOrEmpty() {
			if !create || ca.Default == "" {
				continue // null values are not flowed
			}
			v = expr.StringValue(ca.Default)
		}
		jv, err := toTarget(v, ca.target)
		if err != nil {
			return nil, &mappingError{codeSchemaPropertyOneValue, fmt.Sprintf("%s: %v", ca.Target, err)}
		}
		d.values[ca.Target] = jv
		if v.Redacted() {
			d.redacted[ca.Target] = true
		}
	}
	return d, nil
}

// idValue is the source object's id, which mappings may read as [id]
// (a group's externalId in the scim template).
func idValue(src resource.Document) expr.Value {
	if id, ok := src.String("id"); ok {
		return expr.StringValue(id)
	}
	return expr.Value{}
}

// toTarget converts an expression value to the JSON value of the target
// attribute's type: Entra's "True"/"False" text becomes a boolean for a
// boolean attribute, and so on.
func toTarget(v expr.Value, t resource.Target) (any, error) {
	attr := t.Attr
	if t.Sub != nil {
		attr = t.Sub
	}
	if v.Kind() == expr.Multi {
		if attr.MultiValued && t.Sub == nil {
			var out []any
			for _, e := range v.Values() {
				jv, err := scalar(e, attr)
				if err != nil {
					return nil, err
				}
				out = append(out, jv)
			}
			return out, nil
		}
		if v.Len() != 1 {
			return nil, fmt.Errorf("%d values for an attribute that takes one", v.Len())
		}
		v = v.Values()[0]
	}
	jv, err := scalar(v, attr)
	if err != nil {
		return nil, err
	}
	if attr.MultiValued && t.Sub == nil {
		// One value of a multi-valued attribute a target declares
		// (skills) is sent as an array of one, as RFC 7643 §2.4 has it.
		return []any{jv}, nil
	}
	return jv, nil
}

func scalar(v expr.Value, attr *schema.Attribute) (any, error) {
	switch attr.Type {
	case schema.Boolean:
		if b, ok := v.Bool(); ok {
			return b, nil
		}
		switch strings.ToLower(v.Text()) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean", v.Text())
	case schema.Integer:
		if n, ok := v.Int(); ok {
			return json.Number(strconv.FormatInt(n, 10)), nil
		}
		if _, err := strconv.ParseInt(v.Text(), 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not an integer", v.Text())
		}
		return json.Number(v.Text()), nil
	case schema.Decimal:
		if _, err := strconv.ParseFloat(v.Text(), 64); err != nil {
			return nil, fmt.Errorf("%q is not a number", v.Text())
		}
		return json.Number(v.Text()), nil
	}
	return v.Text(), nil
}

// exportedRecord is what the engine last exported for a linked object,
// stored as the link's Exported JSON: the value of each mapped target
// attribute and a group's target member ids. Updates send what differs
// from it.
type exportedRecord struct {
	Values  map[string]any `json:"values"`
	Members []string       `json:"members,omitempty"`
}

func decodeExported(b []byte) (*exportedRecord, error) {
	r := &exportedRecord{Values: map[string]any{}}
	if len(b) == 0 {
		return r, nil
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(r); err != nil {
		return nil, fmt.Errorf("decode exported record: %w", err)
	}
	if r.Values == nil {
		r.Values = map[string]any{}
	}
	return r, nil
}

// observed returns the current values of co's mapped attributes in a
// target object, for a freshly matched object: the first update then
// sends only what differs from the target.
func (co *compiledObject) observed(doc resource.Document) map[string]any {
	out := map[string]any{}
	for _, ca := range co.attrs {
		vs := ca.target.Values(doc, co.target)
		if len(vs) == 0 {
			continue
		}
		if ca.kind == kindReference {
			if m, ok := vs[0].(map[string]any); ok {
				if id, ok := m["value"].(string); ok {
					out[ca.Target] = map[string]any{"value": id}
				}
			}
			continue
		}
		attr := ca.target.Attr
		if attr.MultiValued && ca.target.Sub == nil && ca.target.Filter == nil {
			out[ca.Target] = vs
		} else {
			out[ca.Target] = vs[0]
		}
	}
	return out
}

// change is one attribute an update sends.
type change struct {
	path     string
	old, new any
	redacted bool
}

// diff returns the attributes whose desired value differs from the
// exported one, in mapping order. Attributes without a desired value are
// left alone: null values are not flowed.
func (co *compiledObject) diff(exported map[string]any, d *desired, refs map[string]any) []change {
	var out []change
	for _, ca := range co.attrs {
		nv, ok := d.values[ca.Target]
		if ca.kind == kindReference {
			nv, ok = refs[ca.Target]
		}
		if !ok {
			continue
		}
		ov, had := exported[ca.Target]
		if had && sameJSON(ov, nv) {
			continue
		}
		out = append(out, change{path: ca.Target, old: ov, new: nv, redacted: d.redacted[ca.Target]})
	}
	return out
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// document builds the target document a create sends from the desired
// values, through the protocol core's PATCH code, so that filtered paths
// (emails[type eq "work"].value) create their elements as a SCIM server
// would, and the result is validated against the target schema.
func (co *compiledObject) document(values map[string]any) (resource.Document, error) {
	var ops []patch.Operation
	for _, ca := range co.attrs {
		v, ok := values[ca.Target]
		if !ok {
			continue
		}
		p := ca.path
		ops = append(ops, patch.Operation{Op: patch.Add, Path: &p, Value: v})
	}
	doc, _, err := patch.Apply(resource.Document{}, co.target, ops)
	if err != nil {
		if e, ok := scim.AsError(err); ok {
			return nil, &mappingError{codeMandatoryFieldsMissing, e.Detail}
		}
		return nil, err
	}
	schemas := []any{co.target.Schema.ID}
	for _, ext := range co.target.Extensions {
		if _, ok := doc[ext.Schema.ID]; ok {
			schemas = append(schemas, ext.Schema.ID)
		}
	}
	doc["schemas"] = schemas
	return doc, nil
}

// operations turns changes into PATCH operations: a replace per attribute,
// which a SCIM server applies to a filtered path whether or not the
// element exists yet.
func operations(changes []change) []scimclient.Operation {
	ops := make([]scimclient.Operation, 0, len(changes))
	for _, c := range changes {
		ops = append(ops, scimclient.Operation{Op: patch.Replace, Path: c.path, Value: c.new})
	}
	return ops
}

// modified returns the modified properties of a log record.
func modified(changes []change) []ModifiedProperty {
	out := make([]ModifiedProperty, 0, len(changes))
	for _, c := range changes {
		mp := ModifiedProperty{Name: c.path, OldValue: display(c.old), NewValue: display(c.new)}
		if c.redacted {
			mp.OldValue, mp.NewValue = redactedText(c.old), "[Redact]"
		}
		out = append(out, mp)
	}
	return out
}

func redactedText(v any) string {
	if v == nil {
		return ""
	}
	return "[Redact]"
}

// display renders a JSON value for a log: text as it is, anything else as
// JSON.
func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
