package resource

import (
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// CheckDeclared refuses key, a key of a request body or a PATCH path that
// names nothing rt defines, when dropping it would lose data the client
// means to keep: an attribute under a schema URN the resource type does not
// have (an extension the tenant has not declared, such as Entra's
// urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag),
// or an attribute a declared extension does not define. Other unknown
// names (core attributes Ferry does not keep, Entra's misspelt URNs in
// "schemas") stay ignored, as RFC 7644 §3.3 lets a service provider do.
// object says the value given is an object, so that a key that is a whole
// schema URN is named as such.
func CheckDeclared(rt *schema.ResourceType, key string, object bool) error {
	if len(key) < 4 || !strings.EqualFold(key[:4], "urn:") || rt.SchemaByURN(key) != nil {
		return nil
	}
	urn, rest := SplitURN(key)
	if s := rt.SchemaByURN(urn); s != nil {
		name := rest
		if i := strings.IndexAny(name, ".["); i >= 0 {
			name = name[:i]
		}
		if rt.IsDeclared(s) && s.Attribute(name) == nil {
			return scim.BadRequest(scim.InvalidValue, "attribute %q is not defined by the extension schema %s declared for this tenant's %ss; add it to the declaration (ferry schemas show %s) or leave it out", key, s.ID, rt.Name, s.ID)
		}
		return nil
	}
	// Entra's jobs before 2019 joined a URN to its attribute with a dot
	// ("…:enterprise:2.0:User.manager"): that names a schema Ferry has,
	// just misspelt, and stays ignored as before.
	if head, _, ok := strings.Cut(rest, "."); ok && rt.SchemaByURN(urn+":"+head) != nil {
		return nil
	}
	if object {
		urn = key
	}
	return scim.BadRequest(scim.InvalidValue, "attribute %q belongs to the schema %s, which is not declared for %ss in this tenant, and would be lost; an administrator declares it with: ferry schemas add FILE.json --resource-type %s", key, urn, rt.Name, rt.Name)
}
