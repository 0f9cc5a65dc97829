package ldapsource

import (
	"fmt"

	"github.com/ferryid/ferry/internal/scim"
)

// The presets' names.
const (
	PresetOpenLDAP        = "openldap"
	PresetActiveDirectory = "activedirectory"
)

// Transform says how an LDAP value becomes a SCIM value.
type Transform string

// The transforms.
const (
	// AsText takes the value as it is, converted to the SCIM attribute's
	// type: LDAP "TRUE"/"FALSE" for booleans (RFC 4517 §3.3.3), digits for
	// integers, base64 of the raw octets for binary.
	AsText Transform = ""
	// GUID reads Active Directory's 16-byte objectGUID as a GUID string
	// (see FormatGUID).
	GUID Transform = "guid"
	// DNRef resolves a DN to the user of this source it names; the SCIM
	// value is that user's id in Ferry's directory. Only the enterprise
	// manager takes it.
	DNRef Transform = "dn"
)

// Rule maps one LDAP attribute to one SCIM attribute.
type Rule struct {
	// Path is the SCIM attribute: "userName", a sub-attribute
	// ("name.givenName"), an element of a multi-valued attribute chosen by
	// fixed sub-attribute values (`emails[type eq "work" and primary eq
	// true].value`), or an extension attribute with its URN
	// ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").
	// Rules with one Path are alternatives: the first whose LDAP attribute
	// has a value gives it.
	Path string
	// Attribute is the LDAP attribute read. Of a multi-valued LDAP
	// attribute the first value is taken.
	Attribute string
	Transform Transform
}

// Disabled says when a user is disabled (SCIM active false); a user it does
// not match is active.
type Disabled struct {
	// Attribute is the LDAP attribute looked at; none means users are
	// never disabled by the directory, only by leaving it.
	Attribute string
	// Bit, when non-zero, disables a user whose Attribute, an integer, has
	// this bit set (Active Directory's userAccountControl ACCOUNTDISABLE,
	// 0x2).
	Bit uint64
	// Values, when Bit is zero, disables a user whose Attribute holds one
	// of them; when empty, any value disables.
	Values []string
}

// describe says in words why a user it matched is disabled.
func (d Disabled) describe() string {
	switch {
	case d.Bit != 0:
		return fmt.Sprintf("disabled in the directory (%s has bit 0x%x set)", d.Attribute, d.Bit)
	case len(d.Values) > 0:
		return fmt.Sprintf("disabled in the directory (%s is %s)", d.Attribute, d.Values[0])
	}
	return fmt.Sprintf("disabled in the directory (%s is set)", d.Attribute)
}

// Preset is a directory product's schema as the source reads it: which
// entries are users and groups, what identifies them, when a user is
// disabled, what marks a change, and the mapping to SCIM.
type Preset struct {
	Name        string
	UserFilter  string
	GroupFilter string
	// IDAttribute holds an entry's stable id, which survives renames and
	// moves; IDTransform reads it.
	IDAttribute string
	IDTransform Transform
	// MemberAttribute holds a group's member DNs.
	MemberAttribute string
	// ChangeAttribute is what incremental passes select changed entries by:
	// "modifyTimestamp" (RFC 4512 §3.4.3) or Active Directory's
	// "uSNChanged".
	ChangeAttribute string
	Disabled        Disabled
	Users, Groups   []Rule
}

const enterprise = scim.EnterpriseUserURN + ":"

// Presets returns the built-in presets. Each call returns new values.
func Presets() []Preset {
	return []Preset{
		{
			// inetOrgPerson (RFC 2798) users and groupOfNames (RFC 4519)
			// groups; entryUUID is RFC 4530's.
			Name:            PresetOpenLDAP,
			UserFilter:      "(objectClass=inetOrgPerson)",
			GroupFilter:     "(objectClass=groupOfNames)",
			IDAttribute:     "entryUUID",
			MemberAttribute: "member",
			ChangeAttribute: "modifyTimestamp",
			// The password policy overlay's administrative lock: the value
			// 000001010000Z locks the account until an administrator
			// removes it (draft-behera-ldap-password-policy-11 §5.3.3).
			// Other values are lockouts after failed binds, which expire;
			// they do not disable.
			Disabled: Disabled{Attribute: "pwdAccountLockedTime", Values: []string{"000001010000Z"}},
			Users: append(personRules(),
				Rule{Path: "userName", Attribute: "uid"},
				Rule{Path: "displayName", Attribute: "cn"},
				Rule{Path: enterprise + "employeeNumber", Attribute: "employeeNumber"},
				Rule{Path: enterprise + "department", Attribute: "departmentNumber"},
				Rule{Path: enterprise + "department", Attribute: "ou"},
			),
			Groups: []Rule{
				{Path: "displayName", Attribute: "cn"},
			},
		},
		{
			// Active Directory's user and group classes, as documented in
			// the AD schema: https://learn.microsoft.com/en-us/windows/win32/adschema/
			Name:            PresetActiveDirectory,
			UserFilter:      "(&(objectCategory=person)(objectClass=user))",
			GroupFilter:     "(objectClass=group)",
			IDAttribute:     "objectGUID",
			IDTransform:     GUID,
			MemberAttribute: "member",
			ChangeAttribute: "uSNChanged",
			// ACCOUNTDISABLE: https://learn.microsoft.com/en-us/troubleshoot/windows-server/active-directory/useraccountcontrol-manipulate-account-properties
			Disabled: Disabled{Attribute: "userAccountControl", Bit: 0x2},
			Users: append(personRules(),
				Rule{Path: "userName", Attribute: "userPrincipalName"},
				Rule{Path: "displayName", Attribute: "displayName"},
				Rule{Path: enterprise + "employeeNumber", Attribute: "employeeID"},
				Rule{Path: enterprise + "department", Attribute: "department"},
			),
			Groups: []Rule{
				{Path: "displayName", Attribute: "cn"},
				{Path: "displayName", Attribute: "sAMAccountName"},
			},
		},
	}
}

// personRules map the attributes both presets' users share: those of
// organizationalPerson and inetOrgPerson (RFC 4519, RFC 2798), which Active
// Directory's user class has too, and the manager DN (RFC 4524).
func personRules() []Rule {
	return []Rule{
		{Path: "name.givenName", Attribute: "givenName"},
		{Path: "name.familyName", Attribute: "sn"},
		{Path: `emails[type eq "work" and primary eq true].value`, Attribute: "mail"},
		{Path: "title", Attribute: "title"},
		{Path: `phoneNumbers[type eq "work"].value`, Attribute: "telephoneNumber"},
		{Path: enterprise + "manager", Attribute: "manager", Transform: DNRef},
	}
}

func presetNamed(name string) (Preset, error) {
	ps := Presets()
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return Preset{}, fmt.Errorf("unknown preset %q; the presets are %v", name, names)
}
