// Package admininput reads and checks what an administrator gives ferry
// apps, ferry tokens and ferry admins (flags, files, standard input, the
// terminal) before any request is sent. It refuses what the server would refuse, with a message that
// names the flag at fault rather than the API's JSON field.
package admininput

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/store"
)

// AppFlags are the flags of ferry apps create and update that describe an
// application. A pointer is nil when its flag was not given.
type AppFlags struct {
	Name, Template, TenantURL, Scope *string
	SecretToken                      *string   // --secret-token
	SecretTokenFile                  string    // --secret-token-file; "-" reads Stdin
	WebhookSecretFile                string    // --webhook-secret-file
	ConfigFile                       string    // --config-file
	Stdin                            io.Reader // what --secret-token-file - reads
}

// ErrNoSecretToken is what creating an application without a secret token
// says.
var ErrNoSecretToken = errors.New("a secret token is required: the bearer token the application's SCIM endpoint accepts (Entra's \"Secret Token\"); " +
	"give it with --secret-token-file FILE (- reads standard input) or FERRY_SECRET_TOKEN, which keep it out of the process list, or --secret-token")

// NewApp checks the flags of ferry apps create and returns the application
// to create. envSecret, FERRY_SECRET_TOKEN, is the secret token when no
// flag gives one.
func (f AppFlags) NewApp(envSecret string) (provision.NewApp, error) {
	in := provision.NewApp{Name: value(f.Name), Template: value(f.Template), TenantURL: value(f.TenantURL), Scope: value(f.Scope)}
	if strings.TrimSpace(in.Name) == "" {
		return provision.NewApp{}, errors.New("--name must not be empty")
	}
	secret, err := SecretToken(f.SecretToken, f.SecretTokenFile, f.Stdin)
	if err != nil {
		return provision.NewApp{}, err
	}
	if f.ConfigFile != "" {
		var from *provision.AppView
		if in.Config, from, err = ConfigFile(f.ConfigFile); err != nil {
			return provision.NewApp{}, err
		}
		if in.Template == "" && from != nil {
			in.Template = from.Template
		}
	}
	if in.Template == "" {
		return provision.NewApp{}, errors.New("--template is required: ringcentral, scim, ... (ferry apps templates lists them)")
	}
	if in.TenantURL == "" && (in.Config == nil || in.Config.TenantURL == "") {
		return provision.NewApp{}, errors.New("--tenant-url is required: the application's SCIM base URL (Entra's \"Tenant URL\"), such as https://platform.ringcentral.com/scim/v2")
	}
	if in.TenantURL != "" {
		if err := TenantURL(in.TenantURL); err != nil {
			return provision.NewApp{}, err
		}
	}
	if in.Scope != "" {
		if err := Scope(in.Scope); err != nil {
			return provision.NewApp{}, err
		}
	}
	if f.SecretToken == nil && f.SecretTokenFile == "" {
		secret = envSecret
	}
	if secret == "" {
		return provision.NewApp{}, ErrNoSecretToken
	}
	in.SecretToken = secret
	if f.WebhookSecretFile != "" {
		if in.WebhookSecret, err = WebhookSecret(f.WebhookSecretFile); err != nil {
			return provision.NewApp{}, err
		}
	}
	return in, nil
}

// Change checks the flags of ferry apps update of the application named
// app and returns the change they make. The environment's secret token is
// not taken, so that an update never replaces the token by accident. note,
// when not empty, says that --config-file holds another application's
// configuration.
func (f AppFlags) Change(app string) (ch provision.AppChange, note string, err error) {
	if f.Name != nil {
		if strings.TrimSpace(*f.Name) == "" {
			return ch, "", errors.New("--name must not be empty")
		}
		ch.Name = f.Name
	}
	if f.TenantURL != nil {
		if *f.TenantURL == "" {
			return ch, "", errors.New("--tenant-url must not be empty: give the application's SCIM base URL")
		}
		if err := TenantURL(*f.TenantURL); err != nil {
			return ch, "", err
		}
		ch.TenantURL = f.TenantURL
	}
	if f.Scope != nil {
		if err := Scope(*f.Scope); err != nil {
			return ch, "", err
		}
		ch.Scope = f.Scope
	}
	if f.SecretToken != nil || f.SecretTokenFile != "" {
		token, err := SecretToken(f.SecretToken, f.SecretTokenFile, f.Stdin)
		if err != nil {
			return ch, "", err
		}
		ch.SecretToken = &token
	}
	if f.WebhookSecretFile != "" {
		s, err := WebhookSecret(f.WebhookSecretFile)
		if err != nil {
			return ch, "", err
		}
		ch.WebhookSecret = &s
	}
	if f.ConfigFile != "" {
		cfg, from, err := ConfigFile(f.ConfigFile)
		if err != nil {
			return ch, "", err
		}
		if from != nil && from.Name != "" && from.Name != app {
			note = fmt.Sprintf("Note: %s is the configuration of %s; it is applied to %s.", f.ConfigFile, from.Name, app)
		}
		ch.Config = cfg
	}
	if ch == (provision.AppChange{}) {
		return ch, "", errors.New("nothing to change: give --name, --tenant-url, --scope, --secret-token-file, --webhook-secret-file or --config-file")
	}
	return ch, note, nil
}

func value(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// SecretToken returns the application's secret token from file ("-" reads
// stdin) or from value, --secret-token's value (nil when the flag was not
// given); at most one of them. It returns "" when neither is given.
func SecretToken(value *string, file string, stdin io.Reader) (string, error) {
	if value != nil && file != "" {
		return "", errors.New("give the secret token once: --secret-token or --secret-token-file")
	}
	if file != "" {
		return secretFile("--secret-token-file", file, "the application's secret token", stdin)
	}
	if value != nil {
		if *value == "" {
			return "", errors.New("--secret-token must not be empty")
		}
		return *value, nil
	}
	return "", nil
}

// secretFile reads a secret from the file a flag names ("-" reads stdin),
// without its line ending; an empty one says what it should hold.
func secretFile(flag, file, holds string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		if file == "-" {
			return "", fmt.Errorf("%s -: standard input is empty; it should hold %s", flag, holds)
		}
		return "", fmt.Errorf("%s %s is empty; it should hold %s", flag, file, holds)
	}
	return secret, nil
}

// WebhookSecret reads a notification webhook's signing secret from a
// file, without its surrounding white space.
func WebhookSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--webhook-secret-file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("--webhook-secret-file %s is empty; it should hold the secret that signs the notification webhook's notices", file)
	}
	return s, nil
}

// TenantURL refuses a --tenant-url the server would refuse.
func TenantURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--tenant-url %q: want the application's SCIM base URL, an http or https URL such as https://platform.ringcentral.com/scim/v2", s)
	}
	if u.User != nil {
		return errors.New("--tenant-url must not carry credentials: give the application's token with --secret-token-file")
	}
	return nil
}

// Scope refuses an application's --scope the server would refuse.
func Scope(scope string) error {
	if scope != provision.ScopeAssigned && scope != provision.ScopeAll {
		return fmt.Errorf("--scope must be %s (the assigned users and groups) or %s (everyone), not %q", provision.ScopeAssigned, provision.ScopeAll, scope)
	}
	return nil
}

// TokenScope refuses a token's --scope that is not an API's.
func TokenScope(scope string) error {
	if scope != store.ScopeSCIM && scope != store.ScopeAdmin {
		return fmt.Errorf("--scope must be %s or %s, got %q", store.ScopeSCIM, store.ScopeAdmin, scope)
	}
	return nil
}

// Limit refuses a listing's --limit the server would, naming the maximum;
// what names what is listed.
func Limit(limit int, what string) error {
	switch {
	case limit < 0:
		return fmt.Errorf("--limit %d: want a positive number of %s", limit, what)
	case limit > provision.MaxLogLimit:
		return fmt.Errorf("--limit %d is more than %d, the most %s listed at once", limit, provision.MaxLogLimit, what)
	}
	return nil
}

// MaxOnDemandMembers is how many members of a group a provision on demand
// takes, as in Entra.
const MaxOnDemandMembers = 5

// OnDemand refuses a provision on demand of more members than it takes.
func OnDemand(req provision.OnDemandRequest) error {
	if len(req.Members) > MaxOnDemandMembers {
		return fmt.Errorf("%d --member flags: a provision on demand takes a group and at most %d of its members", len(req.Members), MaxOnDemandMembers)
	}
	return nil
}

// LogActions are the values ferry apps logs --action takes: the engine's,
// which it checks as well.
func LogActions() []string {
	return []string{provision.ActionCreate, provision.ActionUpdate, provision.ActionDisable, provision.ActionDelete, provision.ActionOther}
}

// LogStatuses are the values ferry apps logs --status takes, besides
// "failed".
func LogStatuses() []string {
	return []string{provision.StatusSuccess, provision.StatusFailure, provision.StatusSkipped, provision.StatusWarning}
}

// LogFilter checks the flags of ferry apps logs as the server would,
// listing the valid values, and returns the filter they make: f with its
// action and status in the engine's words, and since and until, RFC 3339
// times or durations before now, read.
func LogFilter(f provision.LogFilter, since, until string, now time.Time) (provision.LogFilter, error) {
	action := strings.ToLower(strings.TrimSpace(f.Action))
	if action != "" && !slices.Contains(LogActions(), action) {
		return f, fmt.Errorf("--action %q is not a provisioning action; the actions are %s", f.Action, strings.Join(LogActions(), ", "))
	}
	status := strings.ToLower(strings.TrimSpace(f.Status))
	if status == "failed" {
		status = provision.StatusFailure
	}
	if status != "" && !slices.Contains(LogStatuses(), status) {
		return f, fmt.Errorf("--status %q is not a provisioning status; the statuses are %s (or failed)", f.Status, strings.Join(LogStatuses(), ", "))
	}
	if err := Limit(f.Limit, "records"); err != nil {
		if f.Limit > provision.MaxLogLimit {
			err = fmt.Errorf("%w; continue a listing with --before ID, the id of the last record shown", err)
		}
		return f, err
	}
	f.Action, f.Status = action, status
	for _, t := range []struct {
		flag, value string
		dst         *time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if t.value == "" {
			continue
		}
		at, err := parseWhen(t.value, now)
		if err != nil {
			return f, fmt.Errorf("--%s %s: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or a duration such as 2h (that long ago)", t.flag, t.value)
		}
		*t.dst = at
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, fmt.Errorf("--until %s is before --since %s", until, since)
	}
	return f, nil
}

// parseWhen reads an RFC 3339 time, or a positive duration meaning that
// long before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q is neither a time nor a duration", s)
	}
	return now.Add(-d).UTC(), nil
}

// ImportColumns reads --map COLUMN=SCIM-PATH flags into the import's
// column mappings; the path "-" ignores a column.
func ImportColumns(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		col, path, ok := strings.Cut(f, "=")
		col, path = strings.TrimSpace(col), strings.TrimSpace(path)
		if !ok || col == "" || path == "" {
			return nil, fmt.Errorf("--map %q: want COLUMN=SCIM-PATH, such as --map \"Emp ID=externalId\" or --map Nickname=- to ignore a column", f)
		}
		if _, dup := out[col]; dup {
			return nil, fmt.Errorf("--map: the column %q is mapped twice", col)
		}
		out[col] = path
	}
	return out, nil
}

// ImportKey checks --key.
func ImportKey(key string) error {
	if key != "userName" && key != "externalId" {
		return fmt.Errorf("--key must be userName or externalId, not %q", key)
	}
	return nil
}
