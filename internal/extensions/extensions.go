// Package extensions is how an administrator declares a tenant's SCIM
// extension schemas (RFC 7643 §3.3, §7): it checks a declaration with the
// protocol core, keeps it in store.Schemas, and lists, shows and removes
// it. Its types are those of the admin API's /api/v1/schemas.
package extensions

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// NewSchema is what declaring an extension schema takes.
type NewSchema struct {
	// ResourceType is the resource type the schema extends, User or
	// Group; empty means User.
	ResourceType string `json:"resourceType,omitempty"`
	// Schema is the schema in its RFC 7643 §7 form.
	Schema json.RawMessage `json:"schema"`
}

// View is a declared extension schema.
type View struct {
	// ID is the schema's URN.
	ID           string    `json:"id"`
	Name         string    `json:"name,omitempty"`
	ResourceType string    `json:"resourceType"`
	Attributes   []string  `json:"attributes"`
	Created      time.Time `json:"created"`
	// Schema is the definition as it is enforced and served from
	// /Schemas: the one given, with RFC 7643 §2.2's defaults filled in.
	Schema json.RawMessage `json:"schema"`
}

// RemoveResult is what removing a schema did.
type RemoveResult struct {
	ID string `json:"id"`
	// ResourcesChanged counts the resources whose values of the schema a
	// forced removal deleted.
	ResourcesChanged int `json:"resourcesChanged"`
}

// Service declares, lists and removes a tenant's extension schemas.
type Service struct {
	store store.Store
	base  *schema.Catalog
}

// New returns the service over st; base is the catalog every tenant has
// (schema.Builtin).
func New(st store.Store, base *schema.Catalog) *Service {
	return &Service{store: st, base: base}
}

// Add checks and records an extension schema of the tenant. A schema the
// core refuses is a 400 naming the fault; one whose URN the tenant has
// declared already is the store's ErrNameTaken.
func (s *Service) Add(ctx context.Context, tenantID string, in NewSchema) (*View, error) {
	typ := in.ResourceType
	switch {
	case typ == "" || strings.EqualFold(typ, store.UserType):
		typ = store.UserType
	case strings.EqualFold(typ, store.GroupType):
		typ = store.GroupType
	default:
		return nil, scim.BadRequest(scim.InvalidValue, "resource type %q cannot be extended; it is User or Group", in.ResourceType)
	}
	if len(in.Schema) == 0 || string(in.Schema) == "null" {
		return nil, scim.BadRequest(scim.InvalidValue, `"schema" is missing: give the extension schema in its RFC 7643 §7 form`)
	}
	sc, err := schema.ParseExtension(in.Schema)
	if err != nil {
		return nil, scim.BadRequest(scim.InvalidValue, "%v", err)
	}
	have, err := s.store.SchemaExtensions(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	decls := make([]schema.Declared, 0, len(have))
	for _, e := range have {
		if strings.EqualFold(e.URN, sc.ID) {
			return nil, store.Errorf(store.ErrNameTaken, "the schema %s is already declared; remove it first to change it (ferry schemas remove %s)", e.URN, e.URN)
		}
		prev, err := schema.ParseExtension(e.Definition)
		if err != nil {
			return nil, fmt.Errorf("the declared schema %s: %w", e.URN, err)
		}
		decls = append(decls, schema.Declared{ResourceType: e.ResourceType, Schema: prev})
	}
	cat, err := s.base.Extend(decls)
	if err != nil {
		return nil, fmt.Errorf("the declared schemas: %w", err)
	}
	if err := cat.CheckExtension(typ, sc); err != nil {
		return nil, scim.BadRequest(scim.InvalidValue, "%v", err)
	}
	// What is kept is what is enforced: the definition with its
	// defaults, so that show and /Schemas say the same.
	def, err := json.Marshal(sc)
	if err != nil {
		return nil, err
	}
	e := &store.SchemaExtension{TenantID: tenantID, URN: sc.ID, ResourceType: typ, Definition: def}
	if err := s.store.AddSchema(ctx, e); err != nil {
		return nil, err
	}
	return view(*e)
}

func view(e store.SchemaExtension) (*View, error) {
	sc, err := schema.ParseExtension(e.Definition)
	if err != nil {
		return nil, fmt.Errorf("the declared schema %s: %w", e.URN, err)
	}
	v := &View{ID: e.URN, Name: sc.Name, ResourceType: e.ResourceType, Created: e.Created, Schema: e.Definition, Attributes: []string{}}
	for _, a := range sc.Attributes {
		v.Attributes = append(v.Attributes, a.Name)
	}
	return v, nil
}

// List returns the tenant's extension schemas, by URN.
func (s *Service) List(ctx context.Context, tenantID string) ([]View, error) {
	have, err := s.store.SchemaExtensions(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(have))
	for _, e := range have {
		v, err := view(e)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// Get returns the tenant's extension schema urn (ignoring case).
func (s *Service) Get(ctx context.Context, tenantID, urn string) (*View, error) {
	have, err := s.store.SchemaExtensions(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, e := range have {
		if strings.EqualFold(e.URN, urn) {
			return view(e)
		}
	}
	return nil, store.NotFound("no schema %s is declared in this tenant (ferry schemas list shows those that are)", urn)
}

// Remove removes the tenant's extension schema urn. While resources hold
// values of it, it is the store's ErrInUse unless force is set; then the
// values go with it, in the same transaction, each resource changed as an
// update is (a new version, an entry in the change feed, so the engine
// and the webhooks see it).
func (s *Service) Remove(ctx context.Context, tenantID, urn string, force bool) (*RemoveResult, error) {
	n, err := s.store.RemoveSchema(ctx, tenantID, urn, force)
	if err != nil {
		return nil, err
	}
	return &RemoveResult{ID: urn, ResourcesChanged: n}, nil
}
