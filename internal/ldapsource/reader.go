package ldapsource

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// The ways a pass ends early, told apart with errors.Is. A cancelled pass
// ends with the context's error (context.Canceled or
// context.DeadlineExceeded).
var (
	// ErrSizeLimit: the server stopped the search at its size limit (LDAP
	// result 4, sizeLimitExceeded), or the source's SizeLimit was passed.
	ErrSizeLimit = errors.New("size limit reached")
	// ErrConnection: the connection failed or dropped (the server went
	// away, a network error, a request timed out).
	ErrConnection = errors.New("connection to the LDAP server failed")
	// ErrServer: the server refused an operation (the bind, a search) with
	// an LDAP result code.
	ErrServer = errors.New("the LDAP server refused")
	// ErrMark: the high-water mark cannot be used for an incremental pass
	// (another kind of mark, another domain controller); run a full pass.
	ErrMark = errors.New("unusable high-water mark")
)

// Snapshot is what one pass read. A full pass holds every user and group
// the filters select; an incremental one holds those changed since its mark.
// A pass that did not finish is not Complete, and the planner changes
// nothing from it.
type Snapshot struct {
	Full     bool
	Complete bool
	// Err says why the pass did not finish; nil when Complete.
	Err error
	// Users and Groups are keyed by Object.ID.
	Users, Groups map[string]*Object
	// Invalid holds the entries that could not be mapped (no userName, a
	// value of the wrong type), by ID, with the reason. They count as
	// present: an entry that cannot be mapped is not disabled or deleted.
	Invalid map[string]string
	// Unresolved counts DN references (members, managers) to entries that
	// are not among the source's users and groups, which are left out.
	Unresolved int
	// Mark is where the next incremental pass starts; set when Complete.
	Mark Mark
	// Mapping is the mapping the objects were made with, which the planner
	// and Apply use to tell the source's attributes from others.
	Mapping *Mapping
}

func newSnapshot(full bool, m *Mapping) *Snapshot {
	return &Snapshot{Full: full, Users: map[string]*Object{}, Groups: map[string]*Object{},
		Invalid: map[string]string{}, Mapping: m}
}

// Mark is a high-water mark: where an incremental pass starts. The
// scheduler stores it between passes; its fields are plain text.
type Mark struct {
	// Attribute is the preset's change attribute: "modifyTimestamp" or
	// "uSNChanged".
	Attribute string
	// Value is a GeneralizedTime (modifyTimestamp) or a USN.
	Value string
	// Server is, for uSNChanged, the domain controller the USN belongs to
	// (its rootDSE dsServiceName): USNs are per domain controller.
	Server string
}

// Reader reads one LDAP source. It holds no connection between passes and
// is safe for concurrent use, though a source's passes should not overlap.
type Reader struct {
	cfg     Config
	mapping *Mapping
	now     func() time.Time
	// afterPage, when set, is called after each page of a search with the
	// entries read so far; tests stop the server there.
	afterPage func(kind string, entries int)
	// dial, when set, makes the TCP connections of ldap:// and ldaps://
	// URLs (SetDial).
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// SetDial makes the reader open its connections with dial, such as an
// egress policy's DialContext, which decides where they may go: network
// "tcp" for ldap:// and ldaps://, "unix" (with the socket's path) for
// ldapi://. Call it before the first pass.
func (r *Reader) SetDial(dial func(ctx context.Context, network, address string) (net.Conn, error)) {
	r.dial = dial
}

// NewReader returns a Reader for cfg, which must Validate. now is the
// clock that times passes for the modifyTimestamp mark; time.Now when nil.
func NewReader(cfg Config, now func() time.Time) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := Compile(cfg)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Reader{cfg: cfg.withDefaults(), mapping: m, now: now}, nil
}

// Read runs a full pass: every user and group the filters select. On error
// the snapshot is returned too, not Complete, with Err set.
func (r *Reader) Read(ctx context.Context) (*Snapshot, error) {
	return r.read(ctx, nil)
}

// ReadChanges runs an incremental pass: the users and groups changed since
// the mark. It cannot see deletions; a full pass finds them.
func (r *Reader) ReadChanges(ctx context.Context, since Mark) (*Snapshot, error) {
	if since.Attribute != r.mapping.preset.ChangeAttribute {
		err := fmt.Errorf("%w: it is a %q mark, but the %s preset marks changes by %s; run a full pass",
			ErrMark, since.Attribute, r.mapping.preset.Name, r.mapping.preset.ChangeAttribute)
		snap := newSnapshot(false, r.mapping)
		snap.Err = err
		return snap, err
	}
	return r.read(ctx, &since)
}

func (r *Reader) read(ctx context.Context, since *Mark) (*Snapshot, error) {
	snap := newSnapshot(since == nil, r.mapping)
	p := &pass{r: r, ctx: ctx, snap: snap, since: since}
	err := p.run()
	if err != nil {
		snap.Err = err
		return snap, err
	}
	snap.Complete = true
	return snap, nil
}

// pass is one read: its connection, what it has read and where it is.
type pass struct {
	r     *Reader
	ctx   context.Context
	conn  *ldap.Conn
	snap  *Snapshot
	since *Mark
	phase string // what the pass is doing, for errors
	read  int    // entries read in this phase
}

func (p *pass) run() error {
	p.phase = "connect"
	if err := p.connect(); err != nil {
		return err
	}
	defer p.conn.Close()
	// A cancelled context closes the connection, which ends the request
	// in flight: go-ldap's Search does not watch contexts.
	stop := context.AfterFunc(p.ctx, func() { p.conn.Close() })
	defer stop()

	m := p.r.mapping
	start := p.r.now()
	var next Mark
	if m.preset.ChangeAttribute == "uSNChanged" {
		var err error
		if next, err = p.highestUSN(); err != nil {
			return err
		}
	}
	newest := ""
	users, groups := p.snap.Users, p.snap.Groups
	collect := func(kind string, filter string, attrs []string, each func(*ldap.Entry) error) error {
		p.phase = "read " + kind
		return p.search(filter, attrs, func(e *ldap.Entry) error {
			if t := e.GetEqualFoldAttributeValue("modifyTimestamp"); t > newest && m.preset.ChangeAttribute == "modifyTimestamp" {
				newest = t
			}
			return each(e)
		})
	}
	err := collect("users", p.filter(m.userFilter), m.userAttrs, func(e *ldap.Entry) error {
		o, err := m.User(e)
		p.keep(users, e.DN, o, err)
		return nil
	})
	if err != nil {
		return err
	}
	err = collect("groups", p.filter(m.groupFilter), m.groupAttrs, func(e *ldap.Entry) error {
		if err := p.rangedMembers(e); err != nil {
			return err
		}
		o, err := m.Group(e)
		p.keep(groups, e.DN, o, err)
		return nil
	})
	if err != nil {
		return err
	}
	if err := p.resolve(); err != nil {
		return err
	}
	if m.preset.ChangeAttribute == "modifyTimestamp" {
		next = p.timestampMark(newest, p.r.now().Sub(start))
	}
	if err := p.ctx.Err(); err != nil {
		return p.fail(err)
	}
	p.snap.Mark = next
	return nil
}

// keep files a mapped object, or the reason the entry dn could not be
// mapped.
func (p *pass) keep(into map[string]*Object, dn string, o *Object, err error) {
	switch {
	case err == nil:
		into[o.ID] = o
	case o != nil:
		p.snap.Invalid[o.ID] = err.Error()
	default:
		// No id: no object in Ferry's directory can be this entry's, so
		// there is nothing to keep from being disabled; it is reported
		// all the same, under its DN.
		p.snap.Invalid["dn: "+dn] = err.Error()
	}
}

// filter returns the search filter: base, and for an incremental pass only
// what changed since the mark.
func (p *pass) filter(base string) string {
	if p.since == nil {
		return base
	}
	v := p.since.Value
	if p.since.Attribute == "uSNChanged" {
		// The mark is the highest USN committed before the last pass
		// began: everything after it is new.
		n, _ := strconv.ParseInt(v, 10, 64)
		v = strconv.FormatInt(n+1, 10)
	}
	return "(&" + base + "(" + p.since.Attribute + ">=" + ldap.EscapeFilter(v) + "))"
}

func (p *pass) connect() error {
	cfg := p.r.cfg
	u, err := parseURL(cfg.URL)
	if err != nil {
		return err
	}
	tlsConfig := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return fmt.Errorf("read CAFile: %w", err)
		}
		tlsConfig.RootCAs = x509.NewCertPool()
		tlsConfig.RootCAs.AppendCertsFromPEM(pem)
	}
	conn, err := p.dial(u, tlsConfig)
	if err != nil {
		return p.fail(err)
	}
	conn.SetTimeout(cfg.Timeout)
	p.conn = conn
	if cfg.StartTLS {
		p.phase = "StartTLS"
		if err := conn.StartTLS(tlsConfig); err != nil {
			conn.Close()
			return p.fail(err)
		}
	}
	p.phase = "bind as " + cfg.BindDN
	if cfg.BindDN == "" {
		p.phase = "anonymous bind"
	}
	if err := conn.Bind(cfg.BindDN, cfg.BindPassword); err != nil {
		conn.Close()
		return p.fail(err)
	}
	return nil
}

// dial connects to the server of u: with the reader's dial function for
// TCP when it has one, as ldap.DialURL would otherwise.
func (p *pass) dial(u *url.URL, tlsConfig *tls.Config) (*ldap.Conn, error) {
	cfg := p.r.cfg
	if p.r.dial == nil {
		return ldap.DialURL(cfg.URL, ldap.DialWithDialer(&net.Dialer{Timeout: cfg.Timeout}), ldap.DialWithTLSConfig(tlsConfig))
	}
	ctx, cancel := context.WithTimeout(p.ctx, cfg.Timeout)
	defer cancel()
	if u.Scheme == "ldapi" {
		c, err := p.r.dial(ctx, "unix", u.Host)
		if err != nil {
			return nil, ldap.NewError(ldap.ErrorNetwork, err)
		}
		conn := ldap.NewConn(c, false)
		conn.Start()
		return conn, nil
	}
	port := u.Port()
	if port == "" {
		port = ldap.DefaultLdapPort
		if u.Scheme == "ldaps" {
			port = ldap.DefaultLdapsPort
		}
	}
	c, err := p.r.dial(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, ldap.NewError(ldap.ErrorNetwork, err)
	}
	if u.Scheme == "ldaps" {
		tc := tls.Client(c, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, ldap.NewError(ldap.ErrorNetwork, err)
		}
		c = tc
	}
	conn := ldap.NewConn(c, u.Scheme == "ldaps")
	conn.Start()
	return conn, nil
}

// search runs a paged search (RFC 2696) under the base DN and calls each
// for every entry, page by page.
func (p *pass) search(filter string, attrs []string, each func(*ldap.Entry) error) error {
	cfg := p.r.cfg
	paging := ldap.NewControlPaging(uint32(cfg.PageSize))
	req := ldap.NewSearchRequest(cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, []ldap.Control{paging})
	p.read = 0
	for {
		if err := p.ctx.Err(); err != nil {
			return p.fail(err)
		}
		res, err := p.conn.Search(req)
		if err != nil {
			return p.fail(err)
		}
		for _, e := range res.Entries {
			p.read++
			if cfg.SizeLimit > 0 && p.read > cfg.SizeLimit {
				return fmt.Errorf("%s: %w: more than the source's SizeLimit of %d entries match; raise SizeLimit or narrow the filter",
					p.phase, ErrSizeLimit, cfg.SizeLimit)
			}
			if err := each(e); err != nil {
				return err
			}
		}
		if p.r.afterPage != nil {
			p.r.afterPage(p.phase, p.read)
		}
		ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctrl == nil || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// fail turns an error of the LDAP client into one that says which way the
// pass ended: cancelled, size limit, refused by the server, or the
// connection.
func (p *pass) fail(err error) error {
	where := fmt.Sprintf("%s (after %d entries)", p.phase, p.read)
	if p.phase == "connect" || strings.HasPrefix(p.phase, "bind") || p.phase == "anonymous bind" || p.phase == "StartTLS" {
		where = p.phase + " " + p.r.cfg.URL
	}
	if ctxErr := p.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: the pass was stopped: %w", where, ctxErr)
	}
	var lerr *ldap.Error
	if errors.As(err, &lerr) && lerr.ResultCode < ldap.ErrorNetwork {
		switch lerr.ResultCode {
		case ldap.LDAPResultSizeLimitExceeded:
			return fmt.Errorf("%s: %w: the server stopped the search at its size limit; let the bind DN read more "+
				"(OpenLDAP: limits dn.exact=\"%s\" size.prtotal=unlimited) or narrow the filter",
				where, ErrSizeLimit, p.r.cfg.BindDN)
		case ldap.LDAPResultInvalidCredentials:
			return fmt.Errorf("%s: %w: invalid credentials; check BindDN and the password", where, ErrServer)
		}
		name := ldap.LDAPResultCodeMap[lerr.ResultCode]
		return fmt.Errorf("%s: %w: %s (LDAP result %d): %v", where, ErrServer, name, lerr.ResultCode, lerr.Err)
	}
	return fmt.Errorf("%s: %w: %w", where, ErrConnection, err)
}

// highestUSN reads the domain controller's highestCommittedUSN and name
// before the search. Everything committed after it has a higher
// uSNChanged, so it is where the next incremental pass starts: see
// "Polling for Changes Using USNChanged",
// https://learn.microsoft.com/en-us/windows/win32/ad/polling-for-changes-using-usnchanged
func (p *pass) highestUSN() (Mark, error) {
	p.phase = "read rootDSE"
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"highestCommittedUSN", "dsServiceName"}, nil)
	res, err := p.conn.Search(req)
	if err != nil {
		return Mark{}, p.fail(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("highestCommittedUSN") == "" {
		return Mark{}, fmt.Errorf("read rootDSE: %w: the server has no highestCommittedUSN; is it Active Directory?", ErrMark)
	}
	e := res.Entries[0]
	mark := Mark{Attribute: "uSNChanged", Value: e.GetAttributeValue("highestCommittedUSN"), Server: e.GetAttributeValue("dsServiceName")}
	if p.since != nil && p.since.Server != "" && !strings.EqualFold(p.since.Server, mark.Server) {
		return Mark{}, fmt.Errorf("%w: it is %s's, but %s answered (USNs are per domain controller); run a full pass",
			ErrMark, p.since.Server, mark.Server)
	}
	return mark, nil
}

// timestampMark returns the mark after a pass that saw newest as the
// highest modifyTimestamp and took took. An entry changed while the pass
// ran may carry a timestamp below newest and have been passed over, but
// not one earlier than the pass's start, which is at most took (rounded up
// to the attribute's one-second precision) before newest on the server's
// clock. The mark goes back that far, and never before the last one.
func (p *pass) timestampMark(newest string, took time.Duration) Mark {
	mark := Mark{Attribute: "modifyTimestamp", Value: "19700101000000Z"}
	if p.since != nil {
		mark.Value = p.since.Value
	}
	t, err := parseGeneralizedTime(newest)
	if err != nil {
		return mark
	}
	back := t.Add(-took.Truncate(time.Second) - 2*time.Second).Format(generalizedTime)
	if back > mark.Value {
		mark.Value = back
	}
	return mark
}

const generalizedTime = "20060102150405Z"

// parseGeneralizedTime parses the UTC GeneralizedTime servers write
// modifyTimestamp in (RFC 4517 §3.3.13), with or without a fraction.
func parseGeneralizedTime(s string) (time.Time, error) {
	if i := strings.IndexAny(s, ".,"); i >= 0 && strings.HasSuffix(s, "Z") {
		s = s[:i] + "Z"
	}
	return time.Parse(generalizedTime, s)
}

// rangedMembers completes a group's member attribute when Active Directory
// sent it in ranges ("member;range=0-1499": more values than its
// MaxValRange), by asking for the following ranges until the last
// ("member;range=1500-*"). See
// https://learn.microsoft.com/en-us/windows/win32/adsi/attribute-range-retrieval
func (p *pass) rangedMembers(e *ldap.Entry) error {
	attr := p.r.mapping.memberAttr
	vals, err := rangedValues(e, attr, func(spec string) (*ldap.Entry, error) {
		req := ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{spec}, nil)
		res, err := p.conn.Search(req)
		if err != nil {
			return nil, p.fail(err)
		}
		if len(res.Entries) != 1 {
			return nil, fmt.Errorf("%s: read %s: %w: the group went away mid-read", p.phase, spec, ErrConnection)
		}
		return res.Entries[0], nil
	})
	if err != nil || vals == nil {
		return err
	}
	e.Attributes = slices.DeleteFunc(e.Attributes, func(a *ldap.EntryAttribute) bool {
		name, _, _ := strings.Cut(a.Name, ";")
		return strings.EqualFold(name, attr)
	})
	e.Attributes = append(e.Attributes, ldap.NewEntryAttribute(attr, vals))
	return nil
}

// rangedValues returns every value of attr when e holds it in ranges,
// fetching each following range with fetch; nil when e holds it whole.
func rangedValues(e *ldap.Entry, attr string, fetch func(spec string) (*ldap.Entry, error)) ([]string, error) {
	var vals []string
	cur := e
	for round := 0; ; round++ {
		var part *ldap.EntryAttribute
		for _, a := range cur.Attributes {
			name, opt, ok := strings.Cut(a.Name, ";")
			if ok && strings.EqualFold(name, attr) && len(opt) > 6 && strings.EqualFold(opt[:6], "range=") {
				part = a
			}
		}
		if part == nil {
			if round == 0 {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: the server ended the ranges of %s early", e.DN, attr)
		}
		vals = append(vals, part.Values...)
		_, opt, _ := strings.Cut(part.Name, ";")
		lo, hi, _ := strings.Cut(opt[6:], "-")
		if hi == "*" {
			return vals, nil
		}
		first, err1 := strconv.Atoi(lo)
		last, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || last < first || round > 100000 {
			return nil, fmt.Errorf("%s: cannot read the range %q of %s", e.DN, opt, attr)
		}
		next, err := fetch(fmt.Sprintf("%s;range=%d-*", attr, last+1))
		if err != nil {
			return nil, err
		}
		cur = next
	}
}

// resolve turns the DN references of the objects read into IDs. A full
// pass finds them among the objects it read; an incremental one, whose
// objects may refer to any user or group, reads the DN and ID of every
// user and group first, when it has references to resolve.
func (p *pass) resolve() error {
	snap := p.snap
	index := map[string]string{}
	add := func(dn, id string) {
		if key, err := dnKey(dn); err == nil {
			index[key] = id
		}
	}
	hasRefs := false
	for _, o := range snap.Users {
		hasRefs = hasRefs || o.managerDN != ""
	}
	for _, o := range snap.Groups {
		hasRefs = hasRefs || len(o.memberDNs) > 0
	}
	if !snap.Full && hasRefs {
		m := p.r.mapping
		for _, q := range []struct{ kind, filter string }{{"user ids", m.userFilter}, {"group ids", m.groupFilter}} {
			p.phase = "read " + q.kind
			err := p.search(q.filter, []string{m.preset.IDAttribute}, func(e *ldap.Entry) error {
				if id, err := m.entryID(e); err == nil {
					add(e.DN, id)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	for _, objs := range []map[string]*Object{snap.Users, snap.Groups} {
		for _, o := range objs {
			add(o.DN, o.ID)
		}
	}
	lookup := func(dn string) string {
		key, err := dnKey(dn)
		if err != nil {
			return ""
		}
		return index[key]
	}
	for _, o := range snap.Users {
		if o.managerDN == "" {
			continue
		}
		if id := lookup(o.managerDN); id != "" && id != o.ID {
			o.Manager = id
		} else {
			snap.Unresolved++
		}
	}
	for _, o := range snap.Groups {
		seen := map[string]bool{}
		for _, dn := range o.memberDNs {
			id := lookup(dn)
			switch {
			case id == "" || id == o.ID:
				snap.Unresolved++
			case !seen[id]:
				seen[id] = true
				o.Members = append(o.Members, id)
			}
		}
		slices.Sort(o.Members)
	}
	return nil
}

// dnKey is a DN's comparison key: RFC 4514 syntax normalized by go-ldap
// (attribute types lower-cased, escapes canonical), values case-folded, as
// the naming attributes of users and groups (uid, cn, ou, dc) compare
// ignoring case in both OpenLDAP and Active Directory.
func dnKey(dn string) (string, error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return "", err
	}
	return strings.ToLower(parsed.String()), nil
}
