package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// An extension schema a tenant declares (RFC 7643 §3.3, §7): its
// definition is checked by ParseExtension, and Catalog.Extend attaches it to
// the resource type it extends, so that the same code that validates,
// filters, patches and projects the enterprise extension handles it.

// ExtensionError is a declaration ParseExtension or CheckExtension refuses;
// its message names the attribute and the fault.
type ExtensionError struct{ Detail string }

func (e *ExtensionError) Error() string { return e.Detail }

func extensionErrorf(format string, args ...any) error {
	return &ExtensionError{Detail: fmt.Sprintf(format, args...)}
}

// MaxExtensionAttributes bounds the attributes (sub-attributes included) of
// one declared schema: every one costs a lookup on every write.
const MaxExtensionAttributes = 200

// ParseExtension decodes an extension schema in its RFC 7643 §7 form and
// checks it: the id is a URN Ferry can read back from an attribute path, the
// attribute names are ATTRNAMEs (RFC 7643 §2.1) given once each, the types
// and characteristics are those of RFC 7643 §2.3 and §7, and complex
// attributes have simple sub-attributes only. Characteristics left out take
// RFC 7643 §2.2's defaults (type string, mutability readWrite, returned
// default, uniqueness none). "schemas" and "meta", which /Schemas adds,
// are accepted and dropped; any other unknown key is refused, so that a
// misspelt characteristic is not silently ignored.
func ParseExtension(data []byte) (*Schema, error) {
	var in struct {
		Schema
		Schemas []string        `json:"schemas"`
		Meta    json.RawMessage `json:"meta"`
	}
	if err := decodeStrict(data, &in); err != nil {
		return nil, extensionErrorf("the schema is not a valid RFC 7643 §7 schema representation: %v", err)
	}
	s := in.Schema
	if err := checkURN(s.ID); err != nil {
		return nil, err
	}
	if len(s.Attributes) == 0 {
		return nil, extensionErrorf("schema %s: no attributes; an extension schema defines at least one", s.ID)
	}
	n := 0
	if err := checkDeclared(s.ID, s.Attributes, false, &n); err != nil {
		return nil, err
	}
	if n > MaxExtensionAttributes {
		return nil, extensionErrorf("schema %s: %d attributes, more than the %d allowed", s.ID, n, MaxExtensionAttributes)
	}
	return &s, nil
}

// checkURN checks an extension schema's id: a URN (RFC 8141: "urn:", a
// namespace identifier, a colon, a namespace-specific string) whose
// characters are letters, digits, "-", "." and "_" between colons, so that
// every attribute path "URN:name" splits back at its last colon and reads
// as one filter token.
func checkURN(id string) error {
	if id == "" {
		return extensionErrorf(`the schema has no "id"; an extension's id is its URN, such as urn:ietf:params:scim:schemas:extension:acme:2.0:User`)
	}
	if len(id) > 255 {
		return extensionErrorf("schema id %.40q…: longer than 255 characters", id)
	}
	segs := strings.Split(id, ":")
	if len(segs) < 3 || !strings.EqualFold(segs[0], "urn") {
		return extensionErrorf("schema id %q is not a URN; an extension's id looks like urn:ietf:params:scim:schemas:extension:acme:2.0:User", id)
	}
	for _, seg := range segs[1:] {
		if seg == "" {
			return extensionErrorf("schema id %q has an empty segment between colons", id)
		}
		for _, c := range seg {
			if !isAlnum(c) && c != '-' && c != '.' && c != '_' {
				return extensionErrorf("schema id %q: the character %q is not allowed; use letters, digits, \"-\", \".\" and \"_\" between colons", id, c)
			}
		}
	}
	return nil
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// validName reports whether name is an ATTRNAME (RFC 7643 §2.1:
// ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA); sub-attributes
// may also be "$ref", which RFC 7643 §2.3.7 defines.
func validName(name string, sub bool) bool {
	if sub && name == "$ref" {
		return true
	}
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return name != ""
}

// checkDeclared checks a declared schema's attributes (sub true for the
// sub-attributes of a complex one), filling in RFC 7643 §2.2's defaults and
// counting them in n.
func checkDeclared(where string, attrs []*Attribute, sub bool, n *int) error {
	seen := map[string]bool{}
	for i, a := range attrs {
		if a == nil {
			return extensionErrorf("%s: attribute %d is null", where, i+1)
		}
		*n++
		if !validName(a.Name, sub) {
			return extensionErrorf("%s: attribute name %q is not valid: it starts with a letter and has only letters, digits, \"-\" and \"_\" (RFC 7643 §2.1)", where, a.Name)
		}
		at := where + ":" + a.Name
		if sub {
			at = where + "." + a.Name
		}
		if seen[strings.ToLower(a.Name)] {
			return extensionErrorf("%s: defined twice (attribute names are case-insensitive)", at)
		}
		seen[strings.ToLower(a.Name)] = true
		if a.Type == "" {
			a.Type = String
		}
		if a.Mutability == "" {
			a.Mutability = ReadWrite
		}
		if a.Returned == "" {
			a.Returned = Default
		}
		if a.Uniqueness == "" {
			a.Uniqueness = None
		}
		switch a.Type {
		case String, Boolean, Decimal, Integer, DateTime, Binary, Reference, Complex:
		default:
			return extensionErrorf("%s: unknown type %q; the types are string, boolean, decimal, integer, dateTime, binary, reference and complex", at, a.Type)
		}
		switch a.Mutability {
		case ReadOnly, ReadWrite, Immutable, WriteOnly:
		default:
			return extensionErrorf("%s: unknown mutability %q; it is readOnly, readWrite, immutable or writeOnly", at, a.Mutability)
		}
		switch a.Returned {
		case Always, Never, Default, Request:
		default:
			return extensionErrorf("%s: unknown returned %q; it is always, never, default or request", at, a.Returned)
		}
		switch a.Uniqueness {
		case None:
		case Server, Global:
			return extensionErrorf("%s: uniqueness %q is not enforced for extension attributes; declare uniqueness \"none\"", at, a.Uniqueness)
		default:
			return extensionErrorf("%s: unknown uniqueness %q", at, a.Uniqueness)
		}
		if a.Mutability == WriteOnly && a.Returned != Never {
			return extensionErrorf("%s: a writeOnly attribute is never returned (RFC 7643 §7); declare returned \"never\"", at)
		}
		if len(a.CanonicalValues) > 0 && a.Type != String && a.Type != Reference {
			return extensionErrorf("%s: canonicalValues are for string attributes, not %s", at, a.Type)
		}
		a.CanonicalOnly = len(a.CanonicalValues) > 0
		if len(a.ReferenceTypes) > 0 && a.Type != Reference {
			return extensionErrorf("%s: referenceTypes are for reference attributes, not %s", at, a.Type)
		}
		if a.Type == Complex {
			if sub {
				return extensionErrorf("%s: complex attributes cannot nest (RFC 7643 §2.3.8)", at)
			}
			if len(a.SubAttributes) == 0 {
				return extensionErrorf("%s: a complex attribute needs subAttributes", at)
			}
			if err := checkDeclared(at, a.SubAttributes, true, n); err != nil {
				return err
			}
		} else if len(a.SubAttributes) > 0 {
			return extensionErrorf("%s: subAttributes on a %s attribute; only complex attributes have them", at, a.Type)
		}
	}
	return nil
}

// reservedPrefixes are URNs no tenant may declare under: the core schemas
// and the protocol's messages (RFC 7643 §10.2, RFC 7644 §3.1).
var reservedPrefixes = []string{"urn:ietf:params:scim:schemas:core:", "urn:ietf:params:scim:api:"}

// CheckExtension checks that s may extend the resource type called
// rtName in c: the resource type exists and may be extended (User or Group),
// and s is none of c's schemas (the core schemas, the enterprise extension,
// another declared extension) nor under a core URN prefix.
func (c *Catalog) CheckExtension(rtName string, s *Schema) error {
	rt := c.ResourceType(rtName)
	if rt == nil {
		return extensionErrorf("resource type %q cannot be extended; extensions are declared for User or Group", rtName)
	}
	for _, p := range reservedPrefixes {
		if len(s.ID) >= len(p) && strings.EqualFold(s.ID[:len(p)], p) {
			return extensionErrorf("schema id %s is under %s, which the SCIM RFCs reserve; choose a URN of your own, such as urn:ietf:params:scim:schemas:extension:acme:2.0:%s", s.ID, p, rt.Name)
		}
	}
	if c.Schema(s.ID) != nil {
		return extensionErrorf("schema %s is already defined (built in, or declared before); remove it first to change it", s.ID)
	}
	return nil
}

// Declared is an extension schema a tenant declared for a resource type.
type Declared struct {
	ResourceType string // the resource type's name, "User" or "Group"
	Schema       *Schema
}

// Extend returns a new catalog holding c's schemas and resource types and
// the declared extensions, each added to its resource type's extensions
// (not required, RFC 7643 §6) and marked Declared. c is not modified and
// shares its definitions with the result, which must not be modified
// either.
func (c *Catalog) Extend(decls []Declared) (*Catalog, error) {
	out := &Catalog{schemas: slices.Clone(c.schemas)}
	for _, rt := range c.resourceTypes {
		cp := *rt
		cp.Extensions = slices.Clone(rt.Extensions)
		out.resourceTypes = append(out.resourceTypes, &cp)
	}
	for _, d := range decls {
		if err := out.CheckExtension(d.ResourceType, d.Schema); err != nil {
			return nil, err
		}
		out.schemas = append(out.schemas, d.Schema)
		rt := out.ResourceType(d.ResourceType)
		rt.Extensions = append(rt.Extensions, Extension{Schema: d.Schema, Declared: true})
	}
	return out, nil
}

// Declaration is a declared extension as it is stored: the resource type's
// name and the RFC 7643 §7 JSON that ParseExtension accepted.
type Declaration struct {
	ResourceType string
	Definition   []byte
}

// Registry gives each set of declarations its catalog: the base catalog
// extended with them. Catalogs are kept by the declarations' bytes, so a
// tenant whose declarations have not changed gets the catalog it had,
// without parsing again. It is safe for concurrent use.
type Registry struct {
	base *Catalog
	mu   sync.Mutex
	// built holds the catalogs of recent declaration sets, by key.
	built map[string]*Catalog
}

// maxRegistryEntries bounds the catalogs a Registry keeps; past it, the
// cache starts again empty.
const maxRegistryEntries = 256

// NewRegistry returns a registry over base, which must not change.
func NewRegistry(base *Catalog) *Registry {
	return &Registry{base: base, built: map[string]*Catalog{}}
}

// Base returns the catalog without declarations.
func (r *Registry) Base() *Catalog { return r.base }

// Catalog returns the base catalog extended with decls. With no
// declarations it is the base catalog itself.
func (r *Registry) Catalog(decls []Declaration) (*Catalog, error) {
	if len(decls) == 0 {
		return r.base, nil
	}
	var key bytes.Buffer
	for _, d := range decls {
		fmt.Fprintf(&key, "%s\x00%d\x00", d.ResourceType, len(d.Definition))
		key.Write(d.Definition)
	}
	r.mu.Lock()
	c, ok := r.built[key.String()]
	r.mu.Unlock()
	if ok {
		return c, nil
	}
	parsed := make([]Declared, 0, len(decls))
	for _, d := range decls {
		s, err := ParseExtension(d.Definition)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, Declared{ResourceType: d.ResourceType, Schema: s})
	}
	c, err := r.base.Extend(parsed)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.built) >= maxRegistryEntries {
		clear(r.built)
	}
	r.built[key.String()] = c
	r.mu.Unlock()
	return c, nil
}

// IsExtensionError reports whether err is a declaration refused by
// ParseExtension, CheckExtension or Extend.
func IsExtensionError(err error) bool {
	_, ok := errors.AsType[*ExtensionError](err)
	return ok
}
