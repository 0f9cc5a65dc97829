// Package schema defines SCIM attribute characteristics (RFC 7643 §2, §7) and
// the built-in schemas and resource types Ferry serves and validates against.
//
// The built-in definitions are data: JSON files embedded from the RFC's own
// representation (RFC 7643 §8.7). The same values are served from /Schemas and
// drive validation, so what a client discovers is exactly what Ferry enforces.
// Attribute and schema names are looked up case-insensitively everywhere.
package schema

import (
	"strings"
)

// Type is an attribute's data type (RFC 7643 §2.3).
type Type string

// The attribute data types of RFC 7643 §2.3.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Mutability says whether and when a client may write an attribute (RFC 7643 §7).
type Mutability string

// The mutability values of RFC 7643 §7.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned says when an attribute appears in a response (RFC 7643 §7).
type Returned string

// The returned values of RFC 7643 §7.
const (
	Always  Returned = "always"
	Never   Returned = "never"
	Default Returned = "default"
	Request Returned = "request"
)

// Uniqueness says how unique an attribute's value must be (RFC 7643 §7).
type Uniqueness string

// The uniqueness values of RFC 7643 §7.
const (
	None   Uniqueness = "none"
	Server Uniqueness = "server"
	Global Uniqueness = "global"
)

// Attribute is one attribute definition with all its characteristics. Its JSON
// form is the RFC 7643 §7 representation served from /Schemas.
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	// CanonicalOnly says a value must be one of CanonicalValues (compared
	// as the attribute's caseExact says). RFC 7643 §7 makes them
	// suggestions, and the built-in ones stay so (Entra sends email types
	// of its own); a tenant's declaration (ParseExtension) is its
	// contract, so its canonical values bind.
	CanonicalOnly bool `json:"-"`
}

// SubAttribute returns the sub-attribute called name, ignoring case, or nil.
func (a *Attribute) SubAttribute(name string) *Attribute {
	return find(a.SubAttributes, name)
}

// Schema is a named set of attribute definitions, identified by its URN.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name,omitempty"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`
}

// Attribute returns the top-level attribute called name, ignoring case, or nil.
func (s *Schema) Attribute(name string) *Attribute {
	return find(s.Attributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Extension is a schema extension of a resource type (RFC 7643 §6).
type Extension struct {
	Schema   *Schema
	Required bool
	// Declared says a tenant declared the extension (Catalog.Extend):
	// a request naming an attribute it does not define is refused rather
	// than the attribute ignored, since the declaration is the tenant's
	// own and a name missing from it is a mistake to fix.
	Declared bool
}

// ResourceType is a kind of resource (User, Group) with its core schema and
// extensions (RFC 7643 §6).
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string // relative to the service root, e.g. "/Users"
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// SchemaByURN returns the resource type's core schema or extension schema
// whose id equals urn, ignoring case, or nil.
func (rt *ResourceType) SchemaByURN(urn string) *Schema {
	if strings.EqualFold(rt.Schema.ID, urn) {
		return rt.Schema
	}
	for _, ext := range rt.Extensions {
		if strings.EqualFold(ext.Schema.ID, urn) {
			return ext.Schema
		}
	}
	return nil
}

// IsExtension reports whether s is one of the resource type's extension schemas.
func (rt *ResourceType) IsExtension(s *Schema) bool {
	return rt.extension(s) != nil
}

// IsDeclared reports whether s is an extension schema a tenant declared.
func (rt *ResourceType) IsDeclared(s *Schema) bool {
	ext := rt.extension(s)
	return ext != nil && ext.Declared
}

func (rt *ResourceType) extension(s *Schema) *Extension {
	for i := range rt.Extensions {
		if rt.Extensions[i].Schema == s {
			return &rt.Extensions[i]
		}
	}
	return nil
}

// Resolve finds the top-level attribute name of the schema urn. With urn
// empty it looks in the core schema first, then in the built-in extensions,
// then in the declared ones, so the unqualified names real clients send
// (Entra's legacy "manager") still resolve; an unqualified name found in
// more than one extension of the same rank does not.
// It returns nil, nil when nothing matches.
func (rt *ResourceType) Resolve(urn, name string) (*Schema, *Attribute) {
	if urn != "" {
		s := rt.SchemaByURN(urn)
		if s == nil {
			return nil, nil
		}
		if a := s.Attribute(name); a != nil {
			return s, a
		}
		return nil, nil
	}
	if a := rt.Schema.Attribute(name); a != nil {
		return rt.Schema, a
	}
	// The built-in extensions come first, so that a tenant's declaring
	// an attribute of the same name does not change what the names
	// clients send unqualified today resolve to.
	for _, declared := range []bool{false, true} {
		var found *Schema
		var attr *Attribute
		for _, ext := range rt.Extensions {
			if ext.Declared != declared {
				continue
			}
			if a := ext.Schema.Attribute(name); a != nil {
				if found != nil {
					return nil, nil
				}
				found, attr = ext.Schema, a
			}
		}
		if found != nil {
			return found, attr
		}
	}
	return nil, nil
}

// SchemaURNs returns the URNs of the core schema and every extension.
func (rt *ResourceType) SchemaURNs() []string {
	urns := make([]string, 0, 1+len(rt.Extensions))
	urns = append(urns, rt.Schema.ID)
	for _, ext := range rt.Extensions {
		urns = append(urns, ext.Schema.ID)
	}
	return urns
}
