package scimclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// The URNs of RFC 7643's core User and Group schemas (§4.1, §4.2).
const (
	coreUserURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// TargetSchema is what a target publishes about its resources at /Schemas
// and /ResourceTypes (RFC 7644 §4, RFC 7643 §6 and §7), read leniently:
// its resource types with their core schema and extensions, and the
// schemas it serves, each attribute with its type, multiValued,
// sub-attributes, mutability and canonical values. Characteristics a
// target leaves out take RFC 7643 §2.2's defaults (type string, readWrite,
// returned default, uniqueness none, not required, not multi-valued).
type TargetSchema struct {
	// ResourceTypes are the target's resource types, from /ResourceTypes,
	// or inferred from the schema ids when it serves no /ResourceTypes.
	ResourceTypes []TargetResourceType `json:"resourceTypes"`
	// Schemas are the schemas the target serves at /Schemas.
	Schemas []*schema.Schema `json:"schemas"`
	// Notes say what was read leniently or left out, for an
	// administrator: an attribute of an unknown type, resource types
	// inferred, a schema referenced but not served.
	Notes []string `json:"notes,omitempty"`
}

// TargetResourceType is one resource type a target serves.
type TargetResourceType struct {
	Name       string                `json:"name"`
	Endpoint   string                `json:"endpoint"` // "/Users"
	Schema     string                `json:"schema"`   // the core schema's URN
	Extensions []TargetExtensionType `json:"schemaExtensions,omitempty"`
}

// TargetExtensionType is a schema extension of a TargetResourceType.
type TargetExtensionType struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required,omitempty"`
}

// DiscoverSchema reads the target's /Schemas and /ResourceTypes. It
// returns nil and no error when the target does not serve /Schemas
// (404, 405 or 501, or an answer that holds no schema): the RFC 7643
// schemas are then all the engine knows of it. A /ResourceTypes that is
// not served is inferred from the schema ids: the core User and Group
// schemas, each with the extension schemas whose id ends in ":User" or
// ":Group", as RFC 7643 §8.7.1's enterprise extension does. Any other
// failure (401, a 5xx after the retries) is an *Error.
func (c *Client) DiscoverSchema(ctx context.Context) (*TargetSchema, error) {
	ts := &TargetSchema{}
	body, served, err := c.discoveryGet(ctx, "/Schemas")
	if err != nil || !served {
		return nil, err
	}
	items, problem := discoveryItems(body)
	if problem != "" {
		return nil, &Error{Method: http.MethodGet, URL: c.base + "/Schemas", Status: http.StatusOK,
			Code: CodeServiceIncompatible, Detail: "/Schemas: " + problem}
	}
	ts.addSchemas(items)
	if len(ts.Schemas) == 0 {
		return nil, nil
	}
	body, served, err = c.discoveryGet(ctx, "/ResourceTypes")
	if err != nil {
		return nil, err
	}
	if served {
		items, problem = discoveryItems(body)
		if problem != "" {
			ts.Notes = append(ts.Notes, "/ResourceTypes: "+problem+"; resource types are inferred from the schemas")
			served = false
		}
	}
	if served {
		for i, it := range items {
			rt, note := parseResourceType(it, fmt.Sprintf("/ResourceTypes[%d]", i))
			if note != "" {
				ts.Notes = append(ts.Notes, note)
			}
			if rt != nil {
				ts.ResourceTypes = append(ts.ResourceTypes, *rt)
			}
		}
	}
	if len(ts.ResourceTypes) == 0 {
		ts.inferResourceTypes()
	} else {
		ts.adoptExtensions()
	}
	return ts, nil
}

// adoptExtensions makes a served schema that no resource type names an
// extension of the resource type whose core schema's id ends as its id
// does (":User"): a server whose /ResourceTypes lag behind its /Schemas
// still has its extension attributes mapped.
func (ts *TargetSchema) adoptExtensions() {
	named := func(urn string) bool {
		for _, rt := range ts.ResourceTypes {
			if strings.EqualFold(rt.Schema, urn) || slices.ContainsFunc(rt.Extensions, func(e TargetExtensionType) bool { return strings.EqualFold(e.Schema, urn) }) {
				return true
			}
		}
		return false
	}
	for _, s := range ts.Schemas {
		if named(s.ID) {
			continue
		}
		for i := range ts.ResourceTypes {
			rt := &ts.ResourceTypes[i]
			colon := strings.LastIndex(rt.Schema, ":")
			if colon < 0 || colon == len(rt.Schema)-1 {
				continue
			}
			if suffix := rt.Schema[colon:]; strings.HasSuffix(strings.ToLower(s.ID), strings.ToLower(suffix)) {
				rt.Extensions = append(rt.Extensions, TargetExtensionType{Schema: s.ID})
				ts.Notes = append(ts.Notes, fmt.Sprintf("schema %s is not among %s's extensions in /ResourceTypes; it is taken as one by its id", s.ID, rt.Endpoint))
				break
			}
		}
	}
}

// addSchemas reads the schema representations of /Schemas.
func (ts *TargetSchema) addSchemas(items []map[string]any) {
	for i, it := range items {
		s, notes := parseSchema(it, fmt.Sprintf("/Schemas[%d]", i))
		ts.Notes = append(ts.Notes, notes...)
		if s == nil {
			continue
		}
		if ts.Schema(s.ID) != nil {
			ts.Notes = append(ts.Notes, fmt.Sprintf("schema %s is served twice; the first is used", s.ID))
			continue
		}
		ts.Schemas = append(ts.Schemas, s)
	}
}

// discoveryGet reads one discovery endpoint; served is false when the
// target answers that it has none.
func (c *Client) discoveryGet(ctx context.Context, path string) (body []byte, served bool, err error) {
	resp, err := c.do(ctx, &request{method: http.MethodGet, path: path, retry: true})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			switch e.Status {
			case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
				return nil, false, nil
			}
		}
		return nil, false, fmt.Errorf("discover the target's schema: %w", err)
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return nil, false, nil
	}
	return resp.body, true, nil
}

// discoveryItems returns the objects of a discovery answer: a
// ListResponse's Resources (any case), a bare array, or one object.
func discoveryItems(body []byte) ([]map[string]any, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, "the body is not JSON: " + err.Error()
	}
	if m, ok := v.(map[string]any); ok {
		if _, r, ok := resource.Lookup(m, "Resources"); ok {
			v = r
		} else {
			v = []any{m}
		}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, "the body is neither a ListResponse nor an array"
	}
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out, ""
}

// parseSchema reads one schema representation (RFC 7643 §7).
func parseSchema(m map[string]any, where string) (*schema.Schema, []string) {
	id := text(m, "id")
	if id == "" {
		return nil, []string{where + " has no id; it is left out"}
	}
	s := &schema.Schema{ID: id, Name: text(m, "name"), Description: text(m, "description")}
	var notes []string
	s.Attributes, notes = attributes(m, id, true)
	return s, notes
}

// attributes reads the "attributes" (top) or "subAttributes" of m.
func attributes(m map[string]any, where string, top bool) ([]*schema.Attribute, []string) {
	key := "subAttributes"
	if top {
		key = "attributes"
	}
	_, v, _ := resource.Lookup(m, key)
	list, _ := v.([]any)
	var out []*schema.Attribute
	var notes []string
	for _, x := range list {
		am, ok := x.(map[string]any)
		if !ok {
			continue
		}
		a, n := parseAttribute(am, where, top)
		notes = append(notes, n...)
		if a == nil {
			continue
		}
		if slices.ContainsFunc(out, func(b *schema.Attribute) bool { return strings.EqualFold(a.Name, b.Name) }) {
			notes = append(notes, fmt.Sprintf("%s:%s is defined twice; the first is used", where, a.Name))
			continue
		}
		out = append(out, a)
	}
	return out, notes
}

// parseAttribute reads one attribute definition, filling what it omits
// with RFC 7643 §2.2's defaults and spelling known values as the RFC does
// whatever their case.
func parseAttribute(m map[string]any, where string, top bool) (*schema.Attribute, []string) {
	name := text(m, "name")
	if name == "" {
		return nil, []string{where + " has an attribute without a name; it is left out"}
	}
	at := where + ":" + name
	typ, ok := canonical(text(m, "type"), "string", "string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex")
	if !ok {
		return nil, []string{fmt.Sprintf("%s has the unknown type %q; it is left out", at, typ)}
	}
	var notes []string
	characteristic := func(field, def string, values ...string) string {
		v, ok := canonical(text(m, field), def, values...)
		if !ok {
			notes = append(notes, fmt.Sprintf("%s has the unknown %s %q; %s is assumed", at, field, v, def))
			return def
		}
		return v
	}
	a := &schema.Attribute{
		Name: name, Type: schema.Type(typ), Description: text(m, "description"),
		MultiValued: attrFlag(m, "multiValued"), Required: attrFlag(m, "required"), CaseExact: attrFlag(m, "caseExact"),
		Mutability:      schema.Mutability(characteristic("mutability", "readWrite", "readOnly", "readWrite", "immutable", "writeOnly")),
		Returned:        schema.Returned(characteristic("returned", "default", "always", "never", "default", "request")),
		Uniqueness:      schema.Uniqueness(characteristic("uniqueness", "none", "none", "server", "global")),
		CanonicalValues: texts(m, "canonicalValues"),
		ReferenceTypes:  texts(m, "referenceTypes"),
	}
	if a.Type == schema.Complex {
		if !top {
			return nil, append(notes, at+" is a complex sub-attribute, which RFC 7643 §2.3.8 forbids; it is left out")
		}
		subs, n := attributes(m, at, false)
		a.SubAttributes = subs
		notes = append(notes, n...)
	}
	return a, notes
}

// canonical returns the one of want equal to s ignoring case, def when s
// is empty, and s and false when it is none of them.
func canonical(s, def string, want ...string) (string, bool) {
	if s == "" {
		return def, true
	}
	for _, w := range want {
		if strings.EqualFold(s, w) {
			return w, true
		}
	}
	return s, false
}

// parseResourceType reads one resource type representation (RFC 7643 §6).
func parseResourceType(m map[string]any, where string) (*TargetResourceType, string) {
	rt := &TargetResourceType{Name: text(m, "name"), Endpoint: text(m, "endpoint"), Schema: text(m, "schema")}
	if rt.Name == "" {
		rt.Name = text(m, "id")
	}
	if rt.Schema == "" || rt.Endpoint == "" && rt.Name == "" {
		return nil, where + " has no schema, or neither endpoint nor name; it is left out"
	}
	if rt.Endpoint == "" {
		rt.Endpoint = "/" + rt.Name + "s"
	}
	if !strings.HasPrefix(rt.Endpoint, "/") {
		rt.Endpoint = "/" + rt.Endpoint
	}
	_, v, _ := resource.Lookup(m, "schemaExtensions")
	list, _ := v.([]any)
	for _, x := range list {
		if em, ok := x.(map[string]any); ok {
			if urn := text(em, "schema"); urn != "" {
				rt.Extensions = append(rt.Extensions, TargetExtensionType{Schema: urn, Required: attrFlag(em, "required")})
			}
		}
	}
	return rt, ""
}

// inferResourceTypes makes Users and Groups from the served schemas.
func (ts *TargetSchema) inferResourceTypes() {
	for _, core := range []struct{ urn, name, suffix string }{
		{coreUserURN, "User", ":User"}, {coreGroupURN, "Group", ":Group"},
	} {
		var exts []TargetExtensionType
		for _, s := range ts.Schemas {
			if !strings.EqualFold(s.ID, core.urn) && strings.HasSuffix(strings.ToLower(s.ID), strings.ToLower(core.suffix)) {
				exts = append(exts, TargetExtensionType{Schema: s.ID})
			}
		}
		if ts.Schema(core.urn) == nil && len(exts) == 0 {
			continue
		}
		ts.ResourceTypes = append(ts.ResourceTypes, TargetResourceType{Name: core.name, Endpoint: "/" + core.name + "s",
			Schema: core.urn, Extensions: exts})
	}
	ts.Notes = append(ts.Notes, "the target serves no /ResourceTypes; Users and Groups are inferred from the schema ids")
}

// Schema returns the served schema whose id is urn, ignoring case, or nil.
func (ts *TargetSchema) Schema(urn string) *schema.Schema {
	for _, s := range ts.Schemas {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// Find returns the resource type whose endpoint ("Users" or "/Users") or
// name is name, ignoring case, or nil.
func (ts *TargetSchema) Find(name string) *TargetResourceType {
	for i := range ts.ResourceTypes {
		rt := &ts.ResourceTypes[i]
		if strings.EqualFold(strings.TrimPrefix(rt.Endpoint, "/"), strings.TrimPrefix(name, "/")) || strings.EqualFold(rt.Name, name) {
			return rt
		}
	}
	return nil
}

// ResourceType returns the resource type name ("Users") as the protocol
// core describes one, for validating and building documents against it,
// or nil when the target does not serve it. A schema the resource type
// names but the target does not serve is taken from rfc (the RFC 7643
// schemas) when rfc knows it, and left out otherwise; a core schema that
// omits the common attributes id, externalId and meta (RFC 7643 §3.1,
// which /Schemas need not list) gets rfc's.
func (ts *TargetSchema) ResourceType(name string, rfc *schema.Catalog) *schema.ResourceType {
	trt := ts.Find(name)
	if trt == nil {
		return nil
	}
	lookup := func(urn string) *schema.Schema {
		if s := ts.Schema(urn); s != nil {
			return s
		}
		return rfc.Schema(urn)
	}
	core := lookup(trt.Schema)
	if core == nil {
		return nil
	}
	core = withCommon(core, rfc)
	rt := &schema.ResourceType{ID: trt.Name, Name: trt.Name, Endpoint: trt.Endpoint, Schema: core}
	for _, e := range trt.Extensions {
		if s := lookup(e.Schema); s != nil {
			rt.Extensions = append(rt.Extensions, schema.Extension{Schema: s, Required: e.Required})
		}
	}
	return rt
}

// withCommon returns s with RFC 7643 §3.1's common attributes it lacks.
func withCommon(s *schema.Schema, rfc *schema.Catalog) *schema.Schema {
	user := rfc.Schema(coreUserURN)
	out := *s
	out.Attributes = slices.Clone(s.Attributes)
	for _, name := range []string{"id", "externalId", "meta"} {
		if out.Attribute(name) == nil && user != nil && user.Attribute(name) != nil {
			out.Attributes = append(out.Attributes, user.Attribute(name))
		}
	}
	return &out
}

// text returns m's string value for key (any case), or "".
func text(m map[string]any, key string) string {
	_, v, _ := resource.Lookup(m, key)
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// texts returns m's strings for key (any case).
func texts(m map[string]any, key string) []string {
	_, v, _ := resource.Lookup(m, key)
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// attrFlag returns m's boolean for key (any case), false when absent or not
// a boolean (see boolean for the forms accepted).
func attrFlag(m map[string]any, key string) bool {
	_, v, _ := resource.Lookup(m, key)
	b, _ := boolean(v)
	return b
}
