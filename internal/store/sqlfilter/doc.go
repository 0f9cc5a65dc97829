// Package sqlfilter translates SCIM filters (filter.Expr) into SQL that
// selects exactly the resources filter.Match would, and flattens resource
// documents into the attribute_values rows that SQL searches. It is shared by
// the SQLite and PostgreSQL backends; what differs between them (parameter
// markers, substring search, prefix ranges) sits behind Dialect, whose two
// implementations are SQLite and Postgres. The rows and values it defines
// (Flatten, FoldKey, TimeKey, NumberKey) are the translator's half of a
// contract: the SQL it writes finds a value only if it was stored in that
// form. Reading and writing the tables is package sqlstore's and the
// backends' business.
//
// # Tables
//
// The SQL assumes these tables, which each backend's migrations create:
//
//	resources(rid, tenant_id, type, id, id_key, created_at, last_modified, ...)
//	    rid is an integer key; id_key is FoldKey(id); timestamps are TimeKey text.
//	attr_paths(aid, tenant_id, type, path)
//	    one integer per attribute path per tenant and resource type, so that
//	    attribute_values rows are small and every lookup is tenant-scoped.
//	attribute_values(rid, aid, elem, kind, val, eqv, num)
//	    one row per scalar value of the document (see Flatten), indexed on
//	    (aid, val, eqv, rid, elem), (aid, num, rid, elem) and (rid, aid, elem).
//	memberships(group_rid, member_rid)
//	    indexed both ways.
//
// # Semantics
//
// Where gives filter.Match's answers for every filter the grammar allows
// over normalized documents (resource.Normalize), with the server-managed
// attributes rendered from the tables: id, meta.created,
// meta.lastModified and meta.resourceType, a Group's members (value and
// type) and a User's groups (value). meta.created and meta.lastModified
// are compared as instants, and by co, sw and ew as the text
// RenderedTimeLayout gives them. Paths whose value only the HTTP layer knows
// (meta.location, meta.version, members.$ref, members.display, groups.$ref,
// groups.display, groups.type) and value filters on a whole extension are
// refused with a store.ErrUnsupportedFilter error rather than answered
// wrongly.
package sqlfilter

import "github.com/ferryid/ferry/internal/store"

// RenderedTimeLayout is how meta.created and meta.lastModified appear in
// SCIM responses (store.TimeLayout).
const RenderedTimeLayout = store.TimeLayout
