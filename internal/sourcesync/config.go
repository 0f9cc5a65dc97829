// Package sourcesync runs the directory's sources: it keeps their
// configuration (the bind password sealed), runs their passes under a
// lease so that one pass of a source runs at a time across replicas,
// schedules them (incremental every Interval, full every FullInterval and
// on demand), and records each pass's outcome, the read guard's reason
// included, as the source's state. The reading, planning and applying of
// a pass are internal/ldapsource's.
package sourcesync

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/ldapsource"
)

// Defaults of a source's schedule. The full pass is daily: it alone finds
// deletions, and it reads the whole directory.
const (
	DefaultInterval     = 5 * time.Minute
	DefaultFullInterval = 24 * time.Hour
)

// Config is a source's configuration as stored and as the admin API shows
// it: ldapsource.Config without the name (the source's) and the bind
// password (sealed apart, write-only).
type Config struct {
	URL              string   `json:"url"`
	StartTLS         bool     `json:"startTLS,omitempty"`
	CAFile           string   `json:"caFile,omitempty"`
	BindDN           string   `json:"bindDN,omitempty"`
	BaseDN           string   `json:"baseDN"`
	UserFilter       string   `json:"userFilter,omitempty"`
	GroupFilter      string   `json:"groupFilter,omitempty"`
	Preset           string   `json:"preset,omitempty"`
	UserMapping      []Rule   `json:"userMapping,omitempty"`
	GroupMapping     []Rule   `json:"groupMapping,omitempty"`
	MemberAttribute  string   `json:"memberAttribute,omitempty"`
	PageSize         int      `json:"pageSize,omitempty"`
	SizeLimit        int      `json:"sizeLimit,omitempty"`
	Timeout          Duration `json:"timeout,omitempty"`
	Interval         Duration `json:"interval,omitempty"`
	FullInterval     Duration `json:"fullInterval,omitempty"`
	MaxShrinkPercent int      `json:"maxShrinkPercent,omitempty"`
}

// Rule is ldapsource.Rule with JSON names: the LDAP attribute that gives a
// SCIM path, and its transform; an empty attribute removes the preset's
// rules for the path.
type Rule struct {
	Path      string `json:"path"`
	Attribute string `json:"attribute"`
	Transform string `json:"transform,omitempty"`
}

// Duration is a time.Duration written as Go writes it ("5m", "24h").
type Duration time.Duration

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a string such as "5m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"5m\" or \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: use a form such as \"5m\" or \"24h\"", s)
	}
	*d = Duration(v)
	return nil
}

// interval is the time between incremental passes.
func (c Config) interval() time.Duration {
	if c.Interval == 0 {
		return DefaultInterval
	}
	return time.Duration(c.Interval)
}

// fullInterval is the time between full passes.
func (c Config) fullInterval() time.Duration {
	if c.FullInterval == 0 {
		return DefaultFullInterval
	}
	return time.Duration(c.FullInterval)
}

// LDAP is the ldapsource configuration of the source called name, with its
// bind password.
func (c Config) LDAP(name, password string) ldapsource.Config {
	rules := func(rs []Rule) []ldapsource.Rule {
		var out []ldapsource.Rule
		for _, r := range rs {
			out = append(out, ldapsource.Rule{Path: r.Path, Attribute: r.Attribute, Transform: ldapsource.Transform(r.Transform)})
		}
		return out
	}
	return ldapsource.Config{
		Name: name, URL: c.URL, StartTLS: c.StartTLS, CAFile: c.CAFile, BindDN: c.BindDN, BindPassword: password,
		BaseDN: c.BaseDN, UserFilter: c.UserFilter, GroupFilter: c.GroupFilter, Preset: c.Preset,
		UserMapping: rules(c.UserMapping), GroupMapping: rules(c.GroupMapping), MemberAttribute: c.MemberAttribute,
		PageSize: c.PageSize, SizeLimit: c.SizeLimit, Timeout: time.Duration(c.Timeout),
		Interval: c.interval(), FullInterval: c.fullInterval(), MaxShrinkPercent: c.MaxShrinkPercent,
	}
}

// String is d as Go writes durations.
func (d Duration) String() string { return time.Duration(d).String() }
