package provision

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
)

// A target's schema, as it publishes it at /Schemas and /ResourceTypes
// (RFC 7644 §4), is what its mappings may set: Entra's "attribute list" of
// an application, which Entra has an administrator edit by hand and Ferry
// reads from the target. Test Connection reads it when the target serves
// it and keeps it in the application's stored configuration JSON, beside
// the Config's fields, so that the configuration and the schema it was
// checked against are written together and the stored configuration
// always compiles against the stored schema. A target that serves no
// /Schemas keeps RFC 7643's User and Group, as before.

// discoveredSchema is a target's schema as last read, with when.
type discoveredSchema struct {
	DiscoveredAt time.Time `json:"discoveredAt"`
	scimclient.TargetSchema
}

// storedConfig is an application's configuration as stored
// (store.App.Config): the Config and the target's discovered schema. The
// schema is the engine's to write: a Config sent by an administrator
// never replaces it.
type storedConfig struct {
	Config
	TargetSchema *discoveredSchema `json:"targetSchema,omitempty"`
}

// storedSchema returns the discovered schema kept in an application's
// stored configuration, or nil.
func storedSchema(b []byte) (*discoveredSchema, error) {
	var sc struct {
		TargetSchema *discoveredSchema `json:"targetSchema"`
	}
	if len(b) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("the stored target schema does not decode: %w", err)
	}
	return sc.TargetSchema, nil
}

// encodeConfig writes cfg and the discovered schema ds (nil for none) as
// stored.
func encodeConfig(cfg Config, ds *discoveredSchema) ([]byte, error) {
	return json.Marshal(storedConfig{Config: cfg, TargetSchema: ds})
}

// target returns the schema the objects of ds's resource type named
// targetType ("Users") are written with, and whether it is the target's
// own; without discovery, or when the target describes no such resource
// type, it is the RFC 7643 resource type of catalog.
func (ds *discoveredSchema) target(targetType string, catalog *schema.Catalog, rfc *schema.ResourceType) (*schema.ResourceType, bool) {
	if ds == nil {
		return rfc, false
	}
	if rt := ds.ResourceType(targetType, catalog); rt != nil {
		return rt, true
	}
	return rfc, false
}

// sameSchema reports whether a and b describe the same target schema,
// whenever they were read.
func sameSchema(a, b *discoveredSchema) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameJSON(a.TargetSchema, b.TargetSchema)
}

// checkValueType checks a mapping's value against the type and
// multi-valuedness the target declares for its attribute t, where the
// engine knows the value's type before it has any: a direct mapping's
// source attribute, a constant, a default. An expression's type is known
// only from its values, which the cycle checks.
func checkValueType(am AttributeMapping, t resource.Target, source *schema.ResourceType, where string) error {
	attr := t.Attr
	if t.Sub != nil {
		attr = t.Sub
	}
	takesMany := attr.MultiValued && t.Sub == nil && t.Filter == nil
	declared := fmt.Sprintf("the target declares %s a %s%s", am.Target, single(takesMany), attr.Type)
	if am.Type == Direct {
		typ, many := schema.Boolean, false
		switch {
		case strings.EqualFold(am.Source, isSoftDeleted):
		case am.Source == "id":
			typ = schema.String
		default:
			info, err := expr.ResolveAttribute(source, am.Source)
			if err != nil {
				return invalid("%s: source attribute %q: %v", where, am.Source, err)
			}
			typ, many = info.Type, info.Multi && !info.Filtered
		}
		if !accepts(attr.Type, typ) {
			return invalid("%s: %s, and the source %s is a %s; map a source of that type, or convert it with an expression (CStr, CBool, CDate)",
				where, declared, am.Source, typ)
		}
		if many && !takesMany {
			return invalid("%s: %s, and the source %s may hold several values; map one element with a value filter ([type eq \"work\"]) or join them with an expression (Join)",
				where, declared, am.Source)
		}
	}
	for _, c := range []struct{ what, value string }{{"the constant", constantOf(am)}, {"the default", am.Default}} {
		if c.value == "" {
			continue
		}
		if _, err := scalar(expr.StringValue(c.value), attr); err != nil {
			return invalid("%s: %s, and %s %v", where, declared, c.what, err)
		}
		if len(attr.CanonicalValues) > 0 && !slices.ContainsFunc(attr.CanonicalValues, func(v string) bool { return strings.EqualFold(v, c.value) }) {
			return invalid("%s: %s is %q, and the target declares the values %s", where, c.what, c.value, strings.Join(attr.CanonicalValues, ", "))
		}
	}
	return nil
}

func constantOf(am AttributeMapping) string {
	if am.Type == Constant {
		return am.Source
	}
	return ""
}

func single(many bool) string {
	if many {
		return "multi-valued "
	}
	return "single-valued "
}

// accepts reports whether values of the source type can be written to an
// attribute of the target type without an expression: text goes anywhere
// text goes, and a number or a date only where its kind is kept.
func accepts(target, source schema.Type) bool {
	if source == schema.Complex {
		return false
	}
	switch target {
	case schema.String, schema.Reference, schema.Binary:
		return true
	case schema.Decimal:
		return source == schema.Decimal || source == schema.Integer
	default:
		return source == target
	}
}
