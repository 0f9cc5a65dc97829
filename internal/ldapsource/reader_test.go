package ldapsource

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestRangedValues(t *testing.T) {
	t.Parallel()
	first := ldap.NewEntry("CN=Big,DC=corp", map[string][]string{"member;range=0-1": {"a", "b"}})
	var asked []string
	fetch := func(spec string) (*ldap.Entry, error) {
		asked = append(asked, spec)
		if spec == "member;range=2-*" {
			return ldap.NewEntry("CN=Big,DC=corp", map[string][]string{"member;range=2-3": {"c", "d"}}), nil
		}
		return ldap.NewEntry("CN=Big,DC=corp", map[string][]string{"member;range=4-*": {"e"}}), nil
	}
	got, err := rangedValues(first, "member", fetch)
	if err != nil || strings.Join(got, ",") != "a,b,c,d,e" {
		t.Errorf("rangedValues = %v, %v", got, err)
	}
	if strings.Join(asked, " ") != "member;range=2-* member;range=4-*" {
		t.Errorf("asked for %v", asked)
	}
	whole := ldap.NewEntry("CN=Small,DC=corp", map[string][]string{"member": {"a"}})
	if got, err := rangedValues(whole, "member", nil); got != nil || err != nil {
		t.Errorf("a whole attribute: %v, %v", got, err)
	}
}

func TestTimestampMark(t *testing.T) {
	t.Parallel()
	p := &pass{}
	if m := p.timestampMark("20240301120000Z", 3500*1e6); m.Value != "20240301115955Z" {
		// 3.5s pass: back 3s + 2s.
		t.Errorf("mark = %v", m)
	}
	p.since = &Mark{Attribute: "modifyTimestamp", Value: "20240301120000Z"}
	if m := p.timestampMark("", 0); m.Value != "20240301120000Z" {
		t.Errorf("nothing changed: mark = %v, want the last one", m)
	}
	if m := p.timestampMark("20240301120001Z", 0); m.Value != "20240301120000Z" {
		t.Errorf("mark went back before the last one: %v", m)
	}
}

func TestReadChangesWrongMark(t *testing.T) {
	t.Parallel()
	r, err := NewReader(Config{Name: "corp", URL: "ldapi://%2Fnonexistent", BaseDN: "dc=example,dc=com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.ReadChanges(t.Context(), Mark{Attribute: "uSNChanged", Value: "42"})
	if !errors.Is(err, ErrMark) || snap.Complete || !strings.Contains(err.Error(), "run a full pass") {
		t.Errorf("ReadChanges = %v", err)
	}
}

func TestConfigLogsNoPassword(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	cfg := Config{Name: "corp", URL: "ldap://h", BindDN: "cn=ferry", BindPassword: "hunter2-secret"}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("source", "config", cfg)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), "cn=ferry") {
		t.Errorf("log line: %s", buf.String())
	}
}
