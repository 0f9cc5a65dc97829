package provision

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/provision/expr"
	"github.com/ferryid/ferry/internal/provision/scoping"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/filter"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/scimclient"
	"github.com/ferryid/ferry/internal/store"
)

// Defaults of a Config's zero values.
const (
	DefaultFullCycleInterval = 40 * time.Minute
	minFullCycleInterval     = time.Minute
)

// isSoftDeleted is the virtual source attribute Entra's mappings use for
// "should this account be disabled": true when the object is out of scope
// (unassigned, or failing a scoping filter) or disabled in the directory.
const isSoftDeleted = "IsSoftDeleted"

// compiled is a validated Config, ready to evaluate.
type compiled struct {
	Config
	objects []*compiledObject // enabled object types, users first
}

// compiledObject is a validated ObjectMapping.
type compiledObject struct {
	ObjectMapping
	source  *schema.ResourceType // the directory type
	target  *schema.ResourceType // the target type's schema
	attrs   []*compiledAttr
	match   []*compiledAttr // matching attributes by priority
	scoping *scoping.Matcher
	// members maps the group's members (a "members" mapping).
	members bool
	// discovered says target is the target's own schema, read from its
	// /Schemas, rather than RFC 7643's.
	discovered bool
}

// attrKind says how a mapping's value is computed and sent.
type attrKind int

const (
	kindValue     attrKind = iota // a value set at the target path
	kindReference                 // a source id, sent as the id of its linked target object (manager)
)

// compiledAttr is a validated AttributeMapping.
type compiledAttr struct {
	AttributeMapping
	kind   attrKind
	expr   *expr.Expression // Direct (an attribute reference) and Expression
	path   filter.Path      // the target path
	target resource.Target  // the target path resolved
	// refSource is, for a reference, the source attribute holding the
	// referenced object's id ("...:manager.value").
	refSource string
}

// compile validates c against the catalog's schemas, and against the
// target's own schema where ds (nil for none) has it. Every problem is a
// 400 *scim.Error naming the object type, the mapping and what is wrong,
// so that nothing invalid is ever saved.
func compile(c Config, catalog *schema.Catalog, ds *discoveredSchema) (*compiled, error) {
	if err := checkTenantURL(c.TenantURL); err != nil {
		return nil, err
	}
	if err := checkRoles(c.Roles); err != nil {
		return nil, err
	}
	if err := checkDeletionThreshold(c.AccidentalDeletions); err != nil {
		return nil, err
	}
	if err := checkFailureThreshold(c.FailureQuarantine); err != nil {
		return nil, err
	}
	if _, err := notify.ParseAddresses(c.NotificationEmail); err != nil {
		return nil, invalid("notificationEmail: %v", err)
	}
	if c.NotificationWebhook != "" {
		if _, err := notify.ParseWebhookURL(c.NotificationWebhook); err != nil {
			return nil, invalid("notificationWebhook: %v", err)
		}
	}
	switch c.Scope {
	case ScopeAssigned, ScopeAll:
	default:
		return nil, invalid("scope must be %q or %q, not %q", ScopeAssigned, ScopeAll, c.Scope)
	}
	switch scimclient.Profile(c.Profile) {
	case "", scimclient.RFC7644, scimclient.Entra:
	default:
		return nil, invalid("profile must be %q or %q, not %q", scimclient.RFC7644, scimclient.Entra, c.Profile)
	}
	if c.RateLimit < 0 {
		return nil, invalid("rateLimit must not be negative")
	}
	if d := time.Duration(c.FullCycleInterval); d != 0 && (d < minFullCycleInterval || d > 24*time.Hour) {
		return nil, invalid("fullCycleInterval must be between 1m and 24h, not %s", d)
	}
	out := &compiled{Config: c}
	seen := map[string]bool{}
	for i, om := range c.Objects {
		where := fmt.Sprintf("objects[%d] (%s)", i, om.SourceType)
		if seen[om.SourceType] {
			return nil, invalid("%s: the object type %s is mapped twice", where, om.SourceType)
		}
		seen[om.SourceType] = true
		co, err := compileObject(om, catalog, ds, where)
		if err != nil {
			return nil, err
		}
		if om.Enabled {
			out.objects = append(out.objects, co)
		}
	}
	// Users before groups: a group's members must be provisioned first.
	slices.SortStableFunc(out.objects, func(a, b *compiledObject) int {
		return strings.Compare(b.SourceType, a.SourceType) // "User" > "Group"
	})
	return out, nil
}

func checkTenantURL(s string) error {
	if s == "" {
		return invalid("tenantUrl is required: the application's SCIM base URL, such as https://app.example.com/scim/v2")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Not echoed: a malformed URL may hold a secret.
		return invalid("tenantUrl is not an http or https URL such as https://app.example.com/scim/v2")
	}
	if u.User != nil {
		return invalid("tenantUrl must not carry credentials; set the secret token instead")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return invalid("tenantUrl %s must not have a fragment (#...)", redactedURL(u))
	}
	switch u.RawQuery {
	case "", "aadOptscim062020", "AzureAdScimPatch2017":
	default:
		// Not echoed: some targets take an API key there, and the Tenant
		// URL is shown to every admin; the key belongs in the secret token.
		return invalid("tenantUrl %s must not have a query: the only ones understood are Entra's ?aadOptscim062020 "+
			"and ?AzureAdScimPatch2017, which select a PATCH profile; put credentials in the secret token", redactedURL(u))
	}
	return nil
}

// redactedURL shows a URL without credentials, query or fragment.
func redactedURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

func compileObject(om ObjectMapping, catalog *schema.Catalog, ds *discoveredSchema, where string) (*compiledObject, error) {
	co := &compiledObject{ObjectMapping: om}
	switch om.SourceType {
	case store.UserType:
		co.source = catalog.ResourceType(store.UserType)
		if om.TargetType != "Users" {
			return nil, invalid("%s: users are provisioned to the target's Users, not %q", where, om.TargetType)
		}
	case store.GroupType:
		co.source = catalog.ResourceType(store.GroupType)
		if om.TargetType != "Groups" {
			return nil, invalid("%s: groups are provisioned to the target's Groups, not %q", where, om.TargetType)
		}
	default:
		return nil, invalid("%s: sourceType must be User or Group", where)
	}
	co.target, co.discovered = ds.target(om.TargetType, catalog, co.source)
	checker := expr.SchemaChecker(co.source, isSoftDeleted, "id")
	targets := map[string]bool{}
	set := map[string]bool{} // the core schema's top-level attributes set
	for i, am := range om.Attributes {
		aw := fmt.Sprintf("%s attributes[%d] (target %q)", where, i, am.Target)
		ca, err := compileAttr(am, co, checker, aw)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(ca.target.String())
		if am.Target == "members" {
			if om.SourceType != store.GroupType || am.Type != Direct || am.Source != "members" {
				return nil, invalid("%s: members are mapped only for groups, directly from members", aw)
			}
			co.members = true
			continue
		}
		if targets[key] {
			return nil, invalid("%s: the target attribute is mapped twice", aw)
		}
		targets[key] = true
		if ca.target.Schema == co.target.Schema {
			set[strings.ToLower(ca.target.Attr.Name)] = true
		}
		co.attrs = append(co.attrs, ca)
		if am.Match {
			co.match = append(co.match, ca)
		}
	}
	if len(co.match) == 0 {
		return nil, invalid("%s: no attribute is marked to match objects by; Entra and Ferry need one (userName for users, displayName for groups)", where)
	}
	slices.SortStableFunc(co.match, func(a, b *compiledAttr) int { return a.MatchPriority - b.MatchPriority })
	for _, m := range co.match {
		if m.kind != kindValue || m.target.Filter != nil && m.target.Sub == nil || m.target.Attr.Type == schema.Complex && m.target.Sub == nil {
			return nil, invalid("%s: the matching attribute %q must be a single value such as userName", where, m.Target)
		}
	}
	required := map[string]bool{}
	for _, a := range co.target.Schema.Attributes {
		if a.Required && !strings.EqualFold(a.Name, "id") {
			required[strings.ToLower(a.Name)] = true
		}
	}
	for name := range required {
		if !targets[name] && !set[name] {
			return nil, invalid("%s: the target requires %s, which no mapping sets", where, name)
		}
	}
	if err := om.Scoping.Validate(co.source); err != nil {
		return nil, invalid("%s: scoping: %v", where, err)
	}
	m, err := om.Scoping.Compile(co.source)
	if err != nil {
		return nil, invalid("%s: scoping: %v", where, err)
	}
	co.scoping = m
	return co, nil
}

func compileAttr(am AttributeMapping, co *compiledObject, checker expr.AttributeChecker, where string) (*compiledAttr, error) {
	ca := &compiledAttr{AttributeMapping: am}
	switch am.Apply {
	case "":
		ca.Apply = ApplyAlways
	case ApplyAlways, ApplyOnCreate:
	default:
		return nil, invalid("%s: apply must be %q or %q", where, ApplyAlways, ApplyOnCreate)
	}
	p, err := filter.ParsePath(am.Target)
	if err != nil {
		return nil, invalid("%s: %v", where, detail(err))
	}
	t, ok, err := resource.ResolvePath(co.target, p)
	if err != nil {
		return nil, invalid("%s: %v", where, detail(err))
	}
	if (!ok || t.Attr == nil) && co.discovered {
		return nil, invalid("%s: the target does not declare this attribute for its %s in its /Schemas "+
			"(ferry apps schema lists the attributes it declares; --refresh reads them again)", where, co.TargetType)
	}
	if !ok || t.Attr == nil {
		return nil, invalid("%s: the %s schema does not define this attribute", where, co.TargetType)
	}
	if co.discovered && p.Attr.URN == "" && co.target.IsExtension(t.Schema) {
		return nil, invalid("%s: %s is an attribute of the extension %s; write its full path, %s:%s, which is how it is sent",
			where, t.Attr.Name, t.Schema.ID, t.Schema.ID, am.Target)
	}
	if t.Attr.Mutability == schema.ReadOnly || t.Sub != nil && t.Sub.Mutability == schema.ReadOnly {
		return nil, invalid("%s: the attribute is read-only in the target", where)
	}
	ca.path, ca.target = p, t
	if am.Target == "members" {
		return ca, nil
	}
	reference := strings.EqualFold(t.Attr.Name, "manager") && t.Sub == nil
	switch am.Type {
	case Direct:
		if reference {
			ref := am.Source + ".value"
			if err := checker(ref); err != nil {
				return nil, invalid("%s: %v", where, err)
			}
			ca.kind, ca.refSource = kindReference, ref
			return ca, nil
		}
		e, err := expr.Compile("["+am.Source+"]", checker)
		if err != nil {
			return nil, invalid("%s: source attribute %q: %v", where, am.Source, err)
		}
		ca.expr = e
	case Expression:
		if reference {
			return nil, invalid("%s: a manager is mapped directly from the source's manager", where)
		}
		e, err := expr.Compile(am.Source, checker)
		if err != nil {
			return nil, invalid("%s: %v", where, err)
		}
		ca.expr = e
	case Constant:
		if reference {
			return nil, invalid("%s: a manager cannot be a constant", where)
		}
		if am.Source == "" {
			return nil, invalid("%s: a constant mapping needs a value (source)", where)
		}
	case None:
		if am.Default == "" {
			return nil, invalid("%s: a None mapping sets only its default value, which is empty", where)
		}
	default:
		return nil, invalid("%s: type must be direct, constant, expression or none, not %q", where, am.Type)
	}
	if t.Attr.Type == schema.Complex && t.Sub == nil {
		return nil, invalid("%s: map a sub-attribute of %s (such as %s.value), not the whole", where, t.Attr.Name, t.Attr.Name)
	}
	if t.Attr.MultiValued && t.Filter == nil && t.Attr.Type == schema.Complex {
		return nil, invalid("%s: address one element of %s with a filter, such as %s[type eq \"work\"].value",
			where, t.Attr.Name, t.Attr.Name)
	}
	if co.discovered {
		if (t.Attr.Mutability == schema.Immutable || t.Sub != nil && t.Sub.Mutability == schema.Immutable) && ca.Apply != ApplyOnCreate {
			return nil, invalid("%s: the target declares the attribute immutable, so it can be set only when the object is created: set apply to %q",
				where, ApplyOnCreate)
		}
		if err := checkValueType(am, t, co.source, where); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

func invalid(format string, args ...any) *scim.Error {
	return scim.BadRequest(scim.InvalidValue, format, args...)
}

// detail returns the message of a *scim.Error, or err's text.
func detail(err error) string {
	if e, ok := scim.AsError(err); ok {
		return e.Detail
	}
	return err.Error()
}
