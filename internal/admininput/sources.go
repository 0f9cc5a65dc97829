package admininput

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/sourcesync"
)

// BindPasswordEnv is the environment variable ferry sources create reads
// the bind password from when --bind-password-file is not given.
const BindPasswordEnv = "FERRY_LDAP_BIND_PASSWORD"

// BindPassword reads the bind password from file ("-" reads stdin), or,
// without a file, from env, the value of BindPasswordEnv; "" when neither
// is given. There is no flag that takes the password itself: a command
// line is visible to every user of the machine.
func BindPassword(file, env string, stdin io.Reader) (string, error) {
	if file == "" {
		return env, nil
	}
	return secretFile("--bind-password-file", file, "the bind DN's password", stdin)
}

// SourceFlags are the flags of ferry sources create and update that set a
// source's configuration. A field left empty leaves the configuration's
// value as it is.
type SourceFlags struct {
	URL, BindDN, BaseDN     string
	UserFilter, GroupFilter string
	Preset                  string
	Interval, FullInterval  string
	StartTLS                *bool
	MaxShrinkPercent        int
	SizeLimit               int
	UserMap, GroupMap       []string
	ShrinkSet, SizeLimitSet bool
}

// Apply sets the flags given onto cfg.
func (f SourceFlags) Apply(cfg *sourcesync.Config) error {
	for _, s := range []struct{ from, to *string }{
		{&f.URL, &cfg.URL}, {&f.BindDN, &cfg.BindDN}, {&f.BaseDN, &cfg.BaseDN}, {&f.UserFilter, &cfg.UserFilter},
		{&f.GroupFilter, &cfg.GroupFilter}, {&f.Preset, &cfg.Preset},
	} {
		if *s.from != "" {
			*s.to = *s.from
		}
	}
	if f.Preset != "" && f.Preset != "openldap" && f.Preset != "activedirectory" {
		return fmt.Errorf("--preset must be openldap or activedirectory, not %q", f.Preset)
	}
	for _, d := range []struct {
		flag, value string
		to          *sourcesync.Duration
	}{{"--interval", f.Interval, &cfg.Interval}, {"--full-interval", f.FullInterval, &cfg.FullInterval}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			return fmt.Errorf("%s %q: want a duration such as 5m or 24h", d.flag, d.value)
		}
		*d.to = sourcesync.Duration(v)
	}
	if f.StartTLS != nil {
		cfg.StartTLS = *f.StartTLS
	}
	if f.ShrinkSet {
		cfg.MaxShrinkPercent = f.MaxShrinkPercent
	}
	if f.SizeLimitSet {
		cfg.SizeLimit = f.SizeLimit
	}
	for _, m := range []struct {
		flag  string
		rules []string
		to    *[]sourcesync.Rule
	}{{"--user-map", f.UserMap, &cfg.UserMapping}, {"--group-map", f.GroupMap, &cfg.GroupMapping}} {
		if len(m.rules) == 0 {
			continue
		}
		rules, err := mapRules(m.flag, m.rules)
		if err != nil {
			return err
		}
		*m.to = rules
	}
	return nil
}

// mapRules reads SCIM-PATH=LDAP-ATTRIBUTE flags; an empty attribute
// removes the preset's rules for the path.
func mapRules(flag string, flags []string) ([]sourcesync.Rule, error) {
	var out []sourcesync.Rule
	for _, f := range flags {
		path, attr, ok := strings.Cut(f, "=")
		path, attr = strings.TrimSpace(path), strings.TrimSpace(attr)
		if !ok || path == "" {
			return nil, errors.New(flag + " " + fmt.Sprintf("%q", f) + ": want SCIM-PATH=LDAP-ATTRIBUTE, such as " + flag +
				" title=title, or " + flag + " nickName= to map nothing to the path")
		}
		out = append(out, sourcesync.Rule{Path: path, Attribute: attr})
	}
	return out, nil
}
