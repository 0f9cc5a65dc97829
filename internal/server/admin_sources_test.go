package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/seal"
	"github.com/ferryid/ferry/internal/slapdtest"
	"github.com/ferryid/ferry/internal/sourcesync"
	"github.com/ferryid/ferry/internal/store"
)

// startSourcesServer starts a server with the admin API and the sources'
// routes, and a slapd of 20 users in 2 groups.
func startSourcesServer(t *testing.T) (*adminServer, *slapdtest.Server) {
	t.Helper()
	ldapSrv, err := slapdtest.Start(t.Context(), slapdtest.Options{LDIF: slapdtest.People(slapdtest.DefaultSuffix, 20, 2), Overlays: []string{"ppolicy"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ldapSrv.Stop() })
	sealer, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	as := startAdminServer(t, func(store.Store, *schema.Catalog) Admin { return &recordingAdmin{} }, func(s *Server, log *slog.Logger) {
		s.EnableSources(sourcesync.New(s.store, sealer, sourcesync.Options{Owner: "test", Log: log}))
	})
	return as, ldapSrv
}

func decodeAs[T any](t *testing.T, r adminResponse, status int) T {
	t.Helper()
	var v T
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if err := json.Unmarshal([]byte(r.Raw), &v); err != nil {
		t.Fatalf("%s: %v", r.Raw, err)
	}
	return v
}

// TestAdminSources drives a source through the admin API against a real
// slapd: create, sync, a change, a disable and a delete in LDAP arriving
// on the next passes, a size limit and a killed server changing nothing,
// delete refused while the source owns objects; the bind password never in
// an answer or a log line.
func TestAdminSources(t *testing.T) {
	t.Parallel()
	as, ldapSrv := startSourcesServer(t)
	admin := as.token(t, "acme", "admin")
	password := ldapSrv.RootPassword()
	var answers strings.Builder
	call := func(method, path, body string) adminResponse {
		t.Helper()
		r := as.call(t, admin, method, path, body)
		answers.WriteString(r.Raw)
		return r
	}
	config := fmt.Sprintf(`{"url":%q,"bindDN":%q,"baseDN":%q}`, ldapSrv.URL(), ldapSrv.RootDN(), slapdtest.DefaultSuffix)

	src := decodeAs[sourcesync.Source](t, call("POST", "/api/v1/sources", fmt.Sprintf(`{"name":"corp","config":%s,"bindPassword":%q}`, config, password)), 201)
	if src.Name != "corp" || !src.Enabled || !src.BindPasswordSet || src.Status.State != "idle" || src.Config.BaseDN != slapdtest.DefaultSuffix {
		t.Fatalf("created source = %+v", src)
	}
	call("POST", "/api/v1/sources", fmt.Sprintf(`{"name":"CORP","config":%s,"bindPassword":"x"}`, config)).wantError(t, 409, scim.Uniqueness, `"CORP" already exists`)
	call("POST", "/api/v1/sources", `{"name":"bad name","config":{"url":"http://x","baseDN":"dc=x"}}`).
		wantError(t, 400, scim.InvalidValue, "URL")
	call("POST", "/api/v1/sources", `{"name":"x","config":{"url":"ldap://x","baseDN":"dc=x","bindDN":"cn=a,dc=x"}}`).
		wantError(t, 400, scim.InvalidValue, "BindPassword: empty")

	sync := func(query string) sourcesync.Pass {
		t.Helper()
		return decodeAs[sourcesync.Pass](t, call("POST", "/api/v1/sources/corp/sync"+query, ""), 200)
	}
	if p := sync(""); p.Kind != sourcesync.KindFull || p.Outcome != sourcesync.OutcomeSuccess || p.Counts.Created != 22 || p.Trigger != "manual" {
		t.Fatalf("first sync = %+v; want a full pass that created 20 users and 2 groups", p)
	}
	tn, err := as.Store.TenantByName(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	users := func() map[string]*store.Resource { return ferrytest.UsersByName(t, as.Store, tn.ID) }
	if n := len(users()); n != 20 {
		t.Fatalf("%d users after the first sync; want 20", n)
	}

	conn, err := ldapSrv.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := ldap.NewModifyRequest(slapdtest.PeopleDN(slapdtest.DefaultSuffix, 1), nil)
	m.Replace("title", []string{"Manager"})
	m2 := ldap.NewModifyRequest(slapdtest.PeopleDN(slapdtest.DefaultSuffix, 2), nil)
	m2.Add("pwdAccountLockedTime", []string{"000001010000Z"})
	m3 := ldap.NewModifyRequest(slapdtest.GroupDN(slapdtest.DefaultSuffix, 1), nil)
	m3.Delete("member", []string{slapdtest.PeopleDN(slapdtest.DefaultSuffix, 3)})
	for _, req := range []*ldap.ModifyRequest{m, m2, m3} {
		if err := conn.Modify(req); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Del(ldap.NewDelRequest(slapdtest.PeopleDN(slapdtest.DefaultSuffix, 3), nil)); err != nil {
		t.Fatal(err)
	}
	if p := sync("?full=true"); p.Outcome != sourcesync.OutcomeSuccess || p.Counts.Disabled != 2 || p.Counts.Updated < 1 {
		t.Fatalf("sync after the changes = %+v; want user02 and user03 disabled, user01 updated", p)
	}
	u := users()
	if title, _ := u["user01"].Doc.String("title"); title != "Manager" {
		t.Errorf("user01's title = %q; want Manager", title)
	}
	if u["user02"].Doc["active"] != false || u["user03"].Doc["active"] != false || u["user04"].Doc["active"] != true {
		t.Errorf("active: user02 %v, user03 %v, user04 %v; want false, false, true", u["user02"].Doc["active"], u["user03"].Doc["active"], u["user04"].Doc["active"])
	}

	// The configuration changes: a size limit below the directory's size
	// ends the pass, which changes nothing.
	limited := strings.TrimSuffix(config, "}") + `,"sizeLimit":5,"interval":"10m"}`
	src = decodeAs[sourcesync.Source](t, call("PATCH", "/api/v1/sources/corp", `{"config":`+limited+`}`), 200)
	if src.Version != 2 || src.Config.SizeLimit != 5 || src.Config.Interval.String() != "10m0s" {
		t.Fatalf("updated source = %+v", src)
	}
	if p := sync("?full=true"); p.Outcome != sourcesync.OutcomeFailed || !strings.Contains(p.Error, "size limit") || p.Counts.Disabled != 0 ||
		!strings.Contains(p.Advice, "nothing was changed") {
		t.Fatalf("sync past the size limit = %+v; want failed, nothing changed", p)
	}
	st := decodeAs[sourcesync.Status](t, call("GET", "/api/v1/sources/corp/status", ""), 200)
	if st.Last == nil || st.Last.Outcome != sourcesync.OutcomeFailed || st.Mark == nil {
		t.Errorf("status after the failed pass = %+v; want the failure and the previous mark", st)
	}
	decodeAs[sourcesync.Source](t, call("PATCH", "/api/v1/sources/corp", `{"config":`+config+`,"enabled":false}`), 200)

	// slapd killed: the pass fails and disables nothing.
	ldapSrv.Kill()
	if p := sync("?full=true"); p.Outcome != sourcesync.OutcomeFailed || !strings.Contains(p.Error, "connection") {
		t.Fatalf("sync with slapd killed = %+v; want failed", p)
	}
	for name, u := range users() {
		if want := name != "user02" && name != "user03"; u.Doc["active"] != want {
			t.Errorf("%s after the failed pass: active %v, want %v as before", name, u.Doc["active"], want)
		}
	}

	list := decodeAs[[]sourcesync.Source](t, call("GET", "/api/v1/sources", ""), 200)
	if len(list) != 1 || list[0].Status.State != "off" || list[0].Enabled {
		t.Errorf("list = %+v; want corp, off", list)
	}
	call("DELETE", "/api/v1/sources/corp", "").wantError(t, 409, "", "owns 20 users and 2 groups")
	del := decodeAs[sourcesync.DeleteResult](t, call("DELETE", "/api/v1/sources/corp?release=true", ""), 200)
	if del.ReleasedUsers != 20 || del.ReleasedGroups != 2 {
		t.Errorf("delete = %+v", del)
	}
	call("GET", "/api/v1/sources/corp", "").wantError(t, 404, "", `source "corp" not found`)
	call("POST", "/api/v1/sources/corp/sync?fast=1", "").wantError(t, 400, scim.InvalidValue, `unknown query parameter "fast"`)

	if strings.Contains(answers.String(), password) || strings.Contains(as.Log.String(), password) {
		t.Errorf("the bind password appears in an answer or the log")
	}
}
