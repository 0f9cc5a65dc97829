package adminclient

import (
	"context"
	"net/url"

	"github.com/ferryid/ferry/internal/extensions"
)

// schemaPath is the path of an extension schema, below /api/v1.
func schemaPath(urn string) string { return "/schemas/" + url.PathEscape(urn) }

// AddSchema declares an extension schema of the tenant.
func (c *Client) AddSchema(ctx context.Context, in extensions.NewSchema) (*extensions.View, []byte, error) {
	return getOne[extensions.View](ctx, c, "POST", "/schemas", nil, in)
}

// Schemas lists the tenant's extension schemas.
func (c *Client) Schemas(ctx context.Context) ([]extensions.View, []byte, error) {
	return get[[]extensions.View](ctx, c, "GET", "/schemas", nil, nil)
}

// Schema reads an extension schema.
func (c *Client) Schema(ctx context.Context, urn string) (*extensions.View, []byte, error) {
	return getOne[extensions.View](ctx, c, "GET", schemaPath(urn), nil, nil)
}

// RemoveSchema removes an extension schema; with force, the values
// resources hold of it too.
func (c *Client) RemoveSchema(ctx context.Context, urn string, force bool) (*extensions.RemoveResult, []byte, error) {
	var q url.Values
	if force {
		q = url.Values{"force": {"true"}}
	}
	return getOne[extensions.RemoveResult](ctx, c, "DELETE", schemaPath(urn), q, nil)
}
