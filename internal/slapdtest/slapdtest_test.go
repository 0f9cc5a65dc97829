package slapdtest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

const people = `dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=ada,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: ada
cn: Ada Lovelace
sn: Lovelace

dn: uid=grace,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: grace
cn: Grace Hopper
sn: Hopper

dn: cn=reader,dc=example,dc=com
objectClass: person
cn: reader
sn: reader
userPassword: reader-secret
`

// start starts a server for the test and returns it with a root
// connection; both end with the test.
func start(t *testing.T, opts Options) (*Server, *ldap.Conn) {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	conn, err := s.Conn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, conn
}

func search(t *testing.T, conn *ldap.Conn, filter string) (*ldap.SearchResult, error) {
	t.Helper()
	return conn.Search(ldap.NewSearchRequest(DefaultSuffix, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, filter, []string{"uid"}, nil))
}

func TestStartSearchStop(t *testing.T) {
	t.Parallel()
	s, err := Start(context.Background(), Options{LDIF: people})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.dir
	conn, err := s.Conn()
	if err != nil {
		t.Fatal(err)
	}
	res, err := search(t, conn, "(objectClass=inetOrgPerson)")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 2 {
		t.Errorf("found %d people, want 2", len(res.Entries))
	}
	conn.Close()

	// The same server over TCP, through the relay.
	tcpURL, err := s.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	tc, err := ldap.DialURL(tcpURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Bind("cn=reader,"+DefaultSuffix, "reader-secret"); err != nil {
		t.Fatalf("bind over %s: %v", tcpURL, err)
	}
	if res, err := search(t, tc, "(uid=grace)"); err != nil || len(res.Entries) != 1 {
		t.Errorf("search over TCP: %v entries, %v", res, err)
	}
	tc.Close()

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", dir, err)
	}
	if _, err := ldap.DialURL(tcpURL); err == nil {
		t.Error("the TCP listener still accepts connections after Stop")
	}
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	_, conn := start(t, Options{LDIF: people, SizeLimit: 1})
	// The root DN is above limits; an ordinary reader is not.
	if res, err := search(t, conn, "(uid=*)"); err != nil || len(res.Entries) != 2 {
		t.Fatalf("root search: %v, %v", res, err)
	}
	if err := conn.Bind("cn=reader,"+DefaultSuffix, "reader-secret"); err != nil {
		t.Fatal(err)
	}
	_, err := conn.SearchWithPaging(ldap.NewSearchRequest(DefaultSuffix, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(uid=*)", []string{"uid"}, nil), 100)
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Errorf("paged search past the size limit: %v, want result code 4 (sizeLimitExceeded)", err)
	}
}

func TestKillDropsConnections(t *testing.T) {
	t.Parallel()
	s, conn := start(t, Options{LDIF: people})
	s.Kill()
	// The error is the client's (a closed connection, a broken pipe),
	// never an LDAP result from the server.
	_, err := search(t, conn, "(uid=*)")
	var lerr *ldap.Error
	if err == nil || errors.As(err, &lerr) && lerr.ResultCode < ldap.ErrorNetwork {
		t.Errorf("search after Kill: %v, want the connection's failure", err)
	}
	if _, err := s.Conn(); err == nil {
		t.Error("a killed server accepts connections")
	}
}

func TestBadSuffix(t *testing.T) {
	t.Parallel()
	if _, err := Start(context.Background(), Options{Suffix: "o=example"}); err == nil {
		t.Error("Start accepted a suffix without dc=")
	}
}
