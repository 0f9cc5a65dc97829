package store

import (
	"context"
	"time"
)

// SchemaExtension is an extension schema a tenant declared for one resource
// type (RFC 7643 §3.3): attributes the SCIM API then accepts, stores,
// returns and filters under the schema's URN.
type SchemaExtension struct {
	TenantID string
	// URN is the schema's id, unique in the tenant ignoring case.
	URN string
	// ResourceType is UserType or GroupType.
	ResourceType string
	// Definition is the schema in its RFC 7643 §7 JSON form, as
	// schema.ParseExtension accepted it. The store keeps it as given.
	Definition []byte
	Created    time.Time
}

// Schemas stores a tenant's extension schemas. The backends read them again
// in every write and query of resources, so that the attribute index and
// the SQL of filters follow the tenant's declarations.
type Schemas interface {
	// AddSchema records an extension schema and sets its Created. A
	// schema of the same URN in the tenant is ErrNameTaken.
	AddSchema(ctx context.Context, e *SchemaExtension) error
	// SchemaExtensions lists a tenant's extension schemas by URN.
	SchemaExtensions(ctx context.Context, tenantID string) ([]SchemaExtension, error)
	// VersionedSchemaExtensions is SchemaExtensions with the tenant's
	// schemas version: a number every change to its declarations moves,
	// which a read returns with a resource (ReadOptions.SchemasVersion).
	// The version is read first, so that declarations changed in between
	// are labelled with an older version, never a newer one.
	VersionedSchemaExtensions(ctx context.Context, tenantID string) (int64, []SchemaExtension, error)
	// RemoveSchema removes the extension schema urn (ErrNotFound when the
	// tenant has none). Resources holding values under it make it
	// ErrInUse, naming how many, unless force is set: then their values
	// are removed in the same transaction, each resource written as an
	// update (a new version and a change-feed entry). It returns the
	// number of resources whose values it removed.
	RemoveSchema(ctx context.Context, tenantID, urn string, force bool) (int, error)
}
