// Package ldapsource fills Ferry's directory from an LDAP directory
// (OpenLDAP, Active Directory): it reads users and groups, plans what to
// change, and applies the plan to a tenant of a store.Store.
//
// A pass is three steps, which the scheduler runs:
//
//	snap, err := reader.Read(ctx)              // or ReadChanges(ctx, mark)
//	owned, err := LoadOwned(ctx, st, tenant, cfg.Name)
//	plan := NewPlan(owned, snap, PlanOptions{MaxShrinkPercent: cfg.MaxShrinkPercent})
//	result, err := Apply(ctx, Target{Store: st, TenantID: tenant, Source: cfg.Name}, plan)
//
// # Reading
//
// A Reader binds (simple bind, over ldap://, ldaps://, ldap:// with
// StartTLS, or ldapi://) and searches the base DN with the RFC 2696 paged
// results control. A full pass reads every user and group; an incremental
// pass reads those changed since a high-water mark: modifyTimestamp for
// OpenLDAP, uSNChanged for Active Directory (see Mark). Only a full pass
// finds deletions. Groups' member DNs, and users' manager DN, are resolved
// to the source's objects; DNs outside them are left out and counted.
//
// A pass that ends early comes back as an error saying why (ErrSizeLimit,
// ErrConnection, ErrServer, or the context's error) with a Snapshot that
// is not Complete, never as a short snapshot that looks whole.
//
// OpenLDAP applies its size limit (500 entries by default) to paged
// searches too, except for the root DN: the bind DN needs a limits
// directive such as `limits dn.exact="cn=ferry,dc=example,dc=com"
// size.prtotal=unlimited`, or every full pass of a larger directory ends in
// ErrSizeLimit and changes nothing.
//
// # Mapping
//
// A preset (openldap: inetOrgPerson and groupOfNames; activedirectory: user
// and group) maps LDAP attributes to the SCIM User (with the enterprise
// extension) and Group; Config.UserMapping and GroupMapping change it per
// SCIM path. An object's stable id is entryUUID (RFC 4530) or objectGUID
// (as a GUID string, FormatGUID); it survives renames and moves.
//
// A user is disabled (active false) when the preset's Disabled rule
// matches: Active Directory's userAccountControl ACCOUNTDISABLE bit (0x2),
// or OpenLDAP's password policy administrative lock, pwdAccountLockedTime
// = 000001010000Z (the ppolicy overlay; an account locked by failed binds
// is not disabled). A user gone from a full pass is disabled, not deleted,
// so that its history and assignments stay; a group gone is deleted.
//
// # Ownership
//
// The objects a source created carry the externalId "ldap:<source
// name>:<id>" (Marker, ExternalID); that is the whole record of ownership,
// and needs nothing of the store's schema. LoadOwned finds them with the
// filter externalId sw "ldap:<source name>:", and Apply checks the marker
// again in the transaction of every write. Objects without the marker are
// never touched: a user a SCIM client created with a userName the source
// also has is reported as a conflict, not taken over (setting its
// externalId to the marker hands it to the source).
//
// When a SCIM client writes to an object the source owns, the next pass
// that sees the entry differ writes the source's values back over the
// mapped attributes (and active); attributes the mapping does not name,
// and group members that are not the source's objects, are left as the
// client set them. A client that removes or changes the externalId takes
// the object away from the source, which then leaves it alone; the source
// reports the clash if it would create the object again.
//
// # The read guard
//
// A pass that did not finish plans nothing. A full pass that finds more
// than MaxShrinkPercent (20% by default) of the source's users, or of its
// groups, gone plans its creates and updates but no disables, deletes or
// membership removals, and the plan's Guard says why in an administrator's
// words; PlanOptions.AllowShrink lets one pass through once confirmed.
// Incremental passes never disable or delete for absence.
package ldapsource
