package adminclient

import (
	"context"

	"github.com/ferryid/ferry/internal/provision"
)

// TargetSchema lists the attributes an application's mappings may set: the
// ones its target declares at /Schemas, or RFC 7643's.
func (c *Client) TargetSchema(ctx context.Context, app string) (*provision.TargetSchemaView, []byte, error) {
	return getOne[provision.TargetSchemaView](ctx, c, "GET", appPath(app, "schema"), nil, nil)
}

// DiscoverSchema reads the application's target's schema again, saves it
// and lists its attributes. A target that cannot be read, or whose schema
// the mappings do not fit, is an *Error of status 409.
func (c *Client) DiscoverSchema(ctx context.Context, app string) (*provision.TargetSchemaView, []byte, error) {
	return getOne[provision.TargetSchemaView](ctx, c, "POST", appPath(app, "schema", "discover"), nil, nil)
}
