package slapdtest

import (
	"fmt"
	"strings"
)

// PeopleDN is the DN of user i of People under suffix, and GroupDN that of
// group g.
func PeopleDN(suffix string, i int) string {
	return fmt.Sprintf("uid=user%02d,ou=people,%s", i, suffix)
}

// GroupDN is the DN of group g of People under suffix.
func GroupDN(suffix string, g int) string { return fmt.Sprintf("cn=group%d,ou=groups,%s", g, suffix) }

// People is the LDIF of a small directory under suffix for the tests of
// what runs a source: users inetOrgPersons uid=userNN (mail
// userNN@example.com, title "Engineer"), in ou=people, and groups
// groupOfNames cn=groupG in ou=groups, user i a member of group i%groups.
func People(suffix string, users, groups int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n", suffix)
	fmt.Fprintf(&b, "dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n", suffix)
	for i := range users {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: user%02d\ncn: User %d\ngivenName: User\nsn: Number%d\n"+
			"mail: user%02d@example.com\ntitle: Engineer\n\n", PeopleDN(suffix, i), i, i, i, i)
	}
	for g := range groups {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: group%d\n", GroupDN(suffix, g), g)
		for i := g; i < users; i += groups {
			fmt.Fprintf(&b, "member: %s\n", PeopleDN(suffix, i))
		}
		b.WriteString("\n")
	}
	return b.String()
}
