package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// The RFC 7643 §8.7 schema representations and the §8.6 resource types, as
// served from /Schemas and /ResourceTypes.
//
//go:embed data/schemas/*.json data/resource_types.json
var builtinFS embed.FS

// Catalog is the set of schemas and resource types a service provider knows.
// It is built once at start-up and read-only afterwards, so it is safe to
// share between goroutines.
type Catalog struct {
	schemas       []*Schema
	resourceTypes []*ResourceType
}

// Builtin returns a new catalog holding the RFC 7643 schemas (User,
// EnterpriseUser, Group, ServiceProviderConfig, ResourceType, Schema) and the
// User and Group resource types. Each call returns independent values.
func Builtin() *Catalog {
	c, err := load(builtinFS)
	if err != nil {
		// The data is compiled into the binary and covered by tests; failing
		// here means the embedded files themselves are broken.
		panic(fmt.Sprintf("schema: built-in definitions are invalid: %v", err))
	}
	return c
}

type resourceTypeJSON struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Endpoint         string `json:"endpoint"`
	Description      string `json:"description"`
	Schema           string `json:"schema"`
	SchemaExtensions []struct {
		Schema   string `json:"schema"`
		Required bool   `json:"required"`
	} `json:"schemaExtensions"`
}

func load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{}
	files, err := fs.Glob(fsys, "data/schemas/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var s Schema
		if err := decodeStrict(data, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(name), err)
		}
		if err := checkAttributes(s.ID, s.Attributes); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(name), err)
		}
		if s.ID == "" || c.Schema(s.ID) != nil {
			return nil, fmt.Errorf("%s: schema id %q is empty or not unique", path.Base(name), s.ID)
		}
		c.schemas = append(c.schemas, &s)
	}
	data, err := fs.ReadFile(fsys, "data/resource_types.json")
	if err != nil {
		return nil, err
	}
	var rts []resourceTypeJSON
	if err := decodeStrict(data, &rts); err != nil {
		return nil, fmt.Errorf("resource_types.json: %w", err)
	}
	for _, r := range rts {
		if r.ID == "" || c.ResourceType(r.ID) != nil || c.ResourceType(r.Name) != nil {
			return nil, fmt.Errorf("resource type %q: id or name is empty or not unique", r.ID)
		}
		rt := &ResourceType{ID: r.ID, Name: r.Name, Endpoint: r.Endpoint, Description: r.Description, Schema: c.Schema(r.Schema)}
		if rt.Schema == nil {
			return nil, fmt.Errorf("resource type %s: unknown schema %s", r.ID, r.Schema)
		}
		for _, e := range r.SchemaExtensions {
			s := c.Schema(e.Schema)
			if s == nil {
				return nil, fmt.Errorf("resource type %s: unknown extension schema %s", r.ID, e.Schema)
			}
			rt.Extensions = append(rt.Extensions, Extension{Schema: s, Required: e.Required})
		}
		c.resourceTypes = append(c.resourceTypes, rt)
	}
	return c, nil
}

// decodeStrict decodes JSON rejecting unknown keys, so that a misspelt
// characteristic in a data file fails loudly instead of being dropped.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkAttributes rejects definitions the rest of the core cannot honour:
// missing names or types, unknown characteristic values, and sub-attributes
// on anything but a complex attribute (RFC 7643 §2.3.8 forbids nesting
// complex attributes).
func checkAttributes(where string, attrs []*Attribute) error {
	seen := map[string]bool{}
	for _, a := range attrs {
		at := where + "." + a.Name
		if a.Name == "" {
			return fmt.Errorf("%s: attribute without a name", where)
		}
		if seen[strings.ToLower(a.Name)] {
			return fmt.Errorf("%s: defined twice", at)
		}
		seen[strings.ToLower(a.Name)] = true
		switch a.Type {
		case String, Boolean, Decimal, Integer, DateTime, Binary, Reference, Complex:
		default:
			return fmt.Errorf("%s: unknown type %q", at, a.Type)
		}
		switch a.Mutability {
		case ReadOnly, ReadWrite, Immutable, WriteOnly:
		default:
			return fmt.Errorf("%s: unknown mutability %q", at, a.Mutability)
		}
		switch a.Returned {
		case Always, Never, Default, Request:
		default:
			return fmt.Errorf("%s: unknown returned %q", at, a.Returned)
		}
		switch a.Uniqueness {
		case None, Server, Global:
		default:
			return fmt.Errorf("%s: unknown uniqueness %q", at, a.Uniqueness)
		}
		if a.Type == Complex {
			if len(a.SubAttributes) == 0 {
				return fmt.Errorf("%s: complex attribute without sub-attributes", at)
			}
			for _, sub := range a.SubAttributes {
				if sub.Type == Complex {
					return fmt.Errorf("%s.%s: complex attributes cannot nest", at, sub.Name)
				}
			}
			if err := checkAttributes(at, a.SubAttributes); err != nil {
				return err
			}
		} else if len(a.SubAttributes) > 0 {
			return fmt.Errorf("%s: sub-attributes on a %s attribute", at, a.Type)
		}
	}
	return nil
}

// Schemas returns every schema in the catalog, in a stable order.
func (c *Catalog) Schemas() []*Schema { return c.schemas }

// Schema returns the schema whose id is urn, ignoring case, or nil.
func (c *Catalog) Schema(urn string) *Schema {
	for _, s := range c.schemas {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// ResourceTypes returns every resource type in the catalog, in a stable order.
func (c *Catalog) ResourceTypes() []*ResourceType { return c.resourceTypes }

// ResourceType returns the resource type whose name, id or endpoint ("Users"
// or "/Users") is name, ignoring case, or nil.
func (c *Catalog) ResourceType(name string) *ResourceType {
	for _, rt := range c.resourceTypes {
		if strings.EqualFold(rt.Name, name) || strings.EqualFold(rt.ID, name) ||
			(rt.Endpoint != "" && strings.EqualFold(strings.TrimPrefix(rt.Endpoint, "/"), strings.TrimPrefix(name, "/"))) {
			return rt
		}
	}
	return nil
}
