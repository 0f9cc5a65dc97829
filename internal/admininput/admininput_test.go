package admininput

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/ferrytest"
	"github.com/ferryid/ferry/internal/provision"
)

func ptr[T any](v T) *T { return &v }

// write writes content to a file of the test and returns its path.
func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// copiedApp writes what ferry apps show rc --json prints to a file of the
// test, and returns its path.
func copiedApp(t *testing.T) string {
	t.Helper()
	shown, err := json.Marshal(ferrytest.App("rc"))
	if err != nil {
		t.Fatal(err)
	}
	return write(t, "rc.json", string(shown))
}

// TestNewApp: the flags of ferry apps create make the application, the
// secret token from a file, standard input, the flag or the environment,
// the template from a copied application; the first mistake is named.
func TestNewApp(t *testing.T) {
	t.Parallel()
	copied := copiedApp(t)
	secretFile := write(t, "secret", "from-file\r\n")
	base := func() AppFlags {
		return AppFlags{Name: ptr("rc"), Template: ptr("scim"), TenantURL: ptr("https://t.example/scim"), Scope: ptr(""), Stdin: strings.NewReader("")}
	}
	tests := []struct {
		name   string
		edit   func(*AppFlags)
		want   provision.NewApp // when err is ""
		errMsg string
	}{
		{name: "the secret token from the environment", edit: func(*AppFlags) {},
			want: provision.NewApp{Name: "rc", Template: "scim", TenantURL: "https://t.example/scim", SecretToken: "from-env"}},
		{name: "the secret token from a file", edit: func(f *AppFlags) { f.SecretTokenFile = secretFile },
			want: provision.NewApp{Name: "rc", Template: "scim", TenantURL: "https://t.example/scim", SecretToken: "from-file"}},
		{name: "the secret token on standard input", edit: func(f *AppFlags) { f.SecretTokenFile, f.Stdin = "-", strings.NewReader("from-stdin\n") },
			want: provision.NewApp{Name: "rc", Template: "scim", TenantURL: "https://t.example/scim", SecretToken: "from-stdin"}},
		{name: "the secret token of the flag", edit: func(f *AppFlags) { f.SecretToken, f.Scope = ptr("from-flag"), ptr("all") },
			want: provision.NewApp{Name: "rc", Template: "scim", TenantURL: "https://t.example/scim", SecretToken: "from-flag", Scope: "all"}},
		{name: "a copied application", edit: func(f *AppFlags) { f.Template, f.TenantURL, f.ConfigFile = nil, nil, copied },
			want: provision.NewApp{Name: "rc", Template: "ringcentral", SecretToken: "from-env", Config: &ferrytest.App("rc").Config}},
		{name: "a blank name", edit: func(f *AppFlags) { f.Name, f.Template = ptr(" "), nil }, errMsg: "--name must not be empty"},
		{name: "two secret tokens", edit: func(f *AppFlags) { f.SecretToken, f.SecretTokenFile = ptr("a"), "-" }, errMsg: "give the secret token once"},
		{name: "no template", edit: func(f *AppFlags) { f.Template = nil }, errMsg: "--template is required"},
		{name: "no tenant URL", edit: func(f *AppFlags) { f.TenantURL = nil }, errMsg: "--tenant-url is required"},
		{name: "a bad scope", edit: func(f *AppFlags) { f.Scope = ptr("everyone") }, errMsg: `--scope must be assigned (the assigned users and groups) or all (everyone), not "everyone"`},
		{name: "an empty secret token", edit: func(f *AppFlags) { f.SecretToken = ptr("") }, errMsg: "--secret-token must not be empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			tc.edit(&f)
			got, err := f.NewApp("from-env")
			if tc.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
					t.Errorf("error %v, want %q", err, tc.errMsg)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("NewApp = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
	if _, err := base().NewApp(""); err != ErrNoSecretToken {
		t.Errorf("no secret token anywhere: %v, want ErrNoSecretToken", err)
	}
}

// TestChange: only the flags given change; another application's
// configuration gets a note; the environment's secret token is not taken.
func TestChange(t *testing.T) {
	t.Parallel()
	copied := copiedApp(t)
	ch, note, err := AppFlags{Scope: ptr("all"), TenantURL: ptr("https://new.example/scim")}.Change("rc")
	if err != nil || note != "" || !reflect.DeepEqual(ch, provision.AppChange{Scope: ptr("all"), TenantURL: ptr("https://new.example/scim")}) {
		t.Errorf("Change = %+v, %q, %v", ch, note, err)
	}
	ch, note, err = AppFlags{ConfigFile: copied}.Change("hr")
	if err != nil || !reflect.DeepEqual(ch, provision.AppChange{Config: &ferrytest.App("rc").Config}) {
		t.Errorf("Change from a file = %+v, %v", ch, err)
	}
	if want := "Note: " + copied + " is the configuration of rc; it is applied to hr."; note != want {
		t.Errorf("note %q, want %q", note, want)
	}
	for _, tc := range []struct {
		flags AppFlags
		err   string
	}{
		{AppFlags{}, "nothing to change: give --name, --tenant-url, --scope, --secret-token-file, --webhook-secret-file or --config-file"},
		{AppFlags{Name: ptr("")}, "--name must not be empty"},
		{AppFlags{TenantURL: ptr("")}, "--tenant-url must not be empty"},
		{AppFlags{TenantURL: ptr("https://u:p@x.example/scim")}, "--tenant-url must not carry credentials"},
		{AppFlags{Scope: ptr("some")}, "--scope must be assigned"},
	} {
		if _, _, err := tc.flags.Change("rc"); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Change(%+v): %v, want %q", tc.flags, err, tc.err)
		}
	}
}

// TestLogFilter: the flags of ferry apps logs in the engine's words, times
// read against now, and each mistake named with the valid values.
func TestLogFilter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	got, err := LogFilter(provision.LogFilter{User: "bob", Action: " Create", Status: "FAILED", Before: "l-9", Limit: 5}, "2h", "2026-11-26T09:30:00Z", now)
	want := provision.LogFilter{User: "bob", Action: "create", Status: "failure", Before: "l-9", Limit: 5,
		Since: time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LogFilter = %+v, %v\nwant %+v", got, err, want)
	}
	for _, tc := range []struct {
		f            provision.LogFilter
		since, until string
		err          string
	}{
		{provision.LogFilter{Action: "remove"}, "", "", `--action "remove" is not a provisioning action; the actions are create, update, disable, delete, other`},
		{provision.LogFilter{Status: "errored"}, "", "", `--status "errored" is not a provisioning status; the statuses are success, failure, skipped, warning (or failed)`},
		{provision.LogFilter{Limit: 1001}, "", "", "--limit 1001 is more than 1000, the most records listed at once; continue a listing with --before ID"},
		{provision.LogFilter{Limit: -1}, "", "", "--limit -1: want a positive number of records"},
		{provision.LogFilter{}, "yesterday", "", "--since yesterday: want an RFC 3339 time"},
		{provision.LogFilter{}, "", "-2h", "--until -2h: want an RFC 3339 time"},
		{provision.LogFilter{}, "1h", "2h", "--until 2h is before --since 1h"},
	} {
		if _, err := LogFilter(tc.f, tc.since, tc.until, now); err == nil || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("LogFilter(%+v, %q, %q): %v, want %q", tc.f, tc.since, tc.until, err, tc.err)
		}
	}
}

// TestConfigFile: a bare configuration or an application's JSON is read;
// what the server would refuse is named with the file.
func TestConfigFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content, err string
	}{
		{"bare", `{"tenantUrl":"https://x.example","scope":"all"}`, ""},
		{"application", `{"name":"rc","template":"scim","config":{"scope":"all"}}`, ""},
		{"unknown field", `{"tenantUrl":"https://x.example","mappings":[]}`, `unknown field "mappings"`},
		{"beside the configuration", `{"secret":"x","config":{}}`, `unknown field "secret": an application (ferry apps show --json) has only id, name, template, enabled, config`},
		{"wrong type", `{"config":{"scope":7}}`, "config: scope must be a string, not number"},
		{"null", `{"config":null}`, "config is null"},
		{"not an object", `[1]`, "want a JSON object"},
		{"malformed", `{"scope":`, "malformed JSON at byte offset"},
	} {
		path := write(t, "config.json", tc.content)
		cfg, _, err := ConfigFile(path)
		switch {
		case tc.err == "" && (err != nil || cfg == nil || cfg.Scope != "all"):
			t.Errorf("%s: %+v, %v", tc.name, cfg, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), "--config-file "+path+": ") || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v, want the file named and %q", tc.name, err, tc.err)
		}
	}
	if _, _, err := ConfigFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.HasPrefix(err.Error(), "--config-file: open ") {
		t.Errorf("a missing file: %v", err)
	}
}
