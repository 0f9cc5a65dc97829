package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// The target's schema as administrators see and refresh it (discovery.go
// says where it is kept and how mappings are checked against it).

// TargetSchema returns the attributes an application's mappings may set:
// those its target declares at /Schemas, when Test Connection or
// DiscoverSchema read them, and otherwise RFC 7643's.
func (s *Service) TargetSchema(ctx context.Context, tenantID, app string) (*TargetSchemaView, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	ds, err := storedSchema(a.Config)
	if err != nil {
		return nil, err
	}
	return s.schemaView(a.Name, ds), nil
}

// DiscoverSchema reads the application's target's schema now and saves it,
// as Test Connection does, and returns the attributes it takes. A target
// that cannot be read, or whose schema the saved mappings do not fit, is a
// 409 saying why; nothing is saved then.
func (s *Service) DiscoverSchema(ctx context.Context, tenantID, app string) (*TargetSchemaView, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return nil, err
	}
	c, err := s.engine.client(a, cfg)
	if err != nil {
		return nil, scim.Errorf(409, "", "the schema of %s's target was not read: %v", a.Name, err)
	}
	msg, problem, err := s.discover(ctx, a, c)
	if err != nil {
		return nil, err
	}
	if problem {
		return nil, scim.Errorf(409, "", "%s", msg)
	}
	v, err := s.TargetSchema(ctx, tenantID, app)
	if err != nil {
		return nil, err
	}
	v.Message = msg
	return v, nil
}

// discover reads the target's schema with c and saves it with the
// application, when the saved configuration compiles against it. It
// returns what it found, for an administrator; problem says the schema
// could not be read, or was not saved because the mappings do not fit
// it, and the message says why. err is a failure of the store.
func (s *Service) discover(ctx context.Context, a *store.App, c *scimclient.Client) (msg string, problem bool, err error) {
	ts, err := c.DiscoverSchema(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		return "the target's schema was not read, and what was known of it is kept: " + err.Error(), true, nil
	}
	var ds *discoveredSchema
	msg = "the target serves no /Schemas: RFC 7643's User and Group attributes apply"
	if ts != nil {
		ds = &discoveredSchema{DiscoveredAt: s.clock.Now().UTC().Truncate(time.Second), TargetSchema: *ts}
		msg = fmt.Sprintf("the target's schema was read and saved: %d resource types, %d schemas", len(ts.ResourceTypes), len(ts.Schemas))
	}
	var misfit error
	_, err = s.store.UpdateApp(ctx, a.TenantID, a.ID, 0, func(a *store.App) error {
		cfg, err := decodeConfig(a.Config)
		if err != nil {
			return err
		}
		old, err := storedSchema(a.Config)
		if err != nil {
			return err
		}
		if sameSchema(old, ds) {
			// Nothing to write: the application's version, which an
			// administrator's If-Match names, moves only for a change.
			if old != nil {
				msg = fmt.Sprintf("the target's schema was read: %d resource types, %d schemas, the same as on %s",
					len(ts.ResourceTypes), len(ts.Schemas), old.DiscoveredAt.Format(time.RFC3339))
			}
			return errUnchanged
		}
		if _, err := compile(cfg, s.catalog, ds); err != nil {
			misfit = err
			return errUnchanged
		}
		b, err := encodeConfig(cfg, ds)
		if err != nil {
			return err
		}
		a.Config = b
		// Values are typed by the schema: a full cycle writes them anew.
		return raiseConfigVersion(a)
	})
	switch {
	case misfit != nil:
		return "the target's schema was read but not saved, as the mappings do not fit it: " + detail(misfit) +
			". Change the mappings (ferry apps schema lists what the target takes), then test the connection again", true, nil
	case errors.Is(err, errUnchanged):
	case err != nil:
		return "", false, err
	default:
		s.engine.Wake()
	}
	return msg, false, nil
}

// errUnchanged ends an update that has nothing to write.
var errUnchanged = errors.New("unchanged")

// Sources of a TargetAttribute.
const (
	SourceDiscovered = "discovered" // the target declares it at /Schemas
	SourceRFC        = "rfc"        // RFC 7643's, which the engine assumes
)

// schemaView lists the attributes of the resource types the engine writes
// to, and of any other the target serves.
func (s *Service) schemaView(app string, ds *discoveredSchema) *TargetSchemaView {
	v := &TargetSchemaView{App: app, Attributes: []TargetAttribute{}}
	var names []string
	if ds != nil {
		v.Discovered = true
		at := ds.DiscoveredAt
		v.DiscoveredAt = &at
		v.Notes = ds.Notes
		for _, rt := range ds.ResourceTypes {
			names = append(names, strings.TrimPrefix(rt.Endpoint, "/"))
		}
	}
	for _, n := range []string{"Users", "Groups"} {
		if ds == nil || ds.Find(n) == nil {
			names = append(names, n)
		}
	}
	for _, name := range names {
		rt, own := ds.target(name, s.catalog, s.catalog.ResourceType(name))
		if rt == nil {
			continue
		}
		source := func(sc *schema.Schema, a *schema.Attribute) string {
			if !own {
				return SourceRFC
			}
			if served := ds.Schema(sc.ID); served != nil && served.Attribute(a.Name) == a {
				return SourceDiscovered
			}
			return SourceRFC
		}
		for _, sc := range append([]*schema.Schema{rt.Schema}, extensionSchemas(rt)...) {
			prefix := ""
			if sc != rt.Schema {
				prefix = sc.ID + ":"
			}
			for _, a := range sc.Attributes {
				src := source(sc, a)
				v.Attributes = append(v.Attributes, attributeView(name, prefix+a.Name, a, src))
				for _, sub := range a.SubAttributes {
					v.Attributes = append(v.Attributes, attributeView(name, prefix+a.Name+"."+sub.Name, sub, src))
				}
			}
		}
	}
	return v
}

func extensionSchemas(rt *schema.ResourceType) []*schema.Schema {
	out := make([]*schema.Schema, len(rt.Extensions))
	for i, e := range rt.Extensions {
		out[i] = e.Schema
	}
	return out
}

func attributeView(rt, path string, a *schema.Attribute, source string) TargetAttribute {
	return TargetAttribute{ResourceType: rt, Path: path, Type: string(a.Type), MultiValued: a.MultiValued,
		Mutability: string(a.Mutability), Required: a.Required, CanonicalValues: a.CanonicalValues, Source: source}
}
