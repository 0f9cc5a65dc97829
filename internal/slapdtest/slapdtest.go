// Package slapdtest runs a throwaway OpenLDAP server (slapd) for tests: one
// mdb database in a temporary directory, filled with slapadd, serving on a
// Unix socket (ldapi://) in that directory, removed by Stop.
//
// Tests that need an LDAP server start the real one rather than a mock of
// it. When slapd is not installed, Start fails with the command that
// installs it (Debian's slapd and ldap-utils), since a test suite that
// silently skips its LDAP half proves nothing about it.
//
// No port is chosen in advance: slapd reads "ldap://127.0.0.1:0/" as the
// default port 389, not as "any free port", and cannot say which port it
// got. The server listens on ldapi:// only, a socket path no other process
// can take; ListenTCP adds a loopback TCP listener on a port the kernel
// picks, which relays each connection to that socket byte for byte, so that
// ldap:// clients (and StartTLS) are tested against the same slapd.
//
// Readiness is a signal, not a guess: slapd, run in the foreground, logs
// "slapd starting" once its listeners are open, and Start then binds as the
// root DN (retrying briefly, as the first bind can race the daemon loop).
package slapdtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// InstallHint is the command that installs slapd on the Debian machines
// Ferry is developed and tested on (`make slapd-binaries` runs it).
const InstallHint = "apt-get install -y slapd ldap-utils"

// The installed programs and files the server is built from (Debian's layout).
const (
	slapdPath  = "/usr/sbin/slapd"
	slapadd    = "/usr/sbin/slapadd"
	schemaDir  = "/etc/ldap/schema"
	modulePath = "/usr/lib/ldap"
)

// DefaultSuffix is the naming context of a server started without one.
const DefaultSuffix = "dc=example,dc=com"

// Options describes the server to start. The zero value is a server for
// DefaultSuffix with no entries but the suffix itself and no size limit.
type Options struct {
	// Suffix is the database's naming context; it must start with a dc=
	// component, whose entry Start creates. DefaultSuffix when empty.
	Suffix string
	// LDIF holds entries under Suffix, loaded with slapadd before the
	// server starts.
	LDIF string
	// SizeLimit, when positive, is the most entries a search returns to
	// anyone but the root DN (slapd.conf "sizelimit"); paged searches stop
	// there too. Zero means no limit (slapd's own default is 500).
	SizeLimit int
	// Overlays are loaded as modules from /usr/lib/ldap and stacked on the
	// database, e.g. "ppolicy" for pwdAccountLockedTime.
	Overlays []string
	// TLSCertFile and TLSKeyFile, both set, are a PEM certificate and key
	// the server offers to StartTLS.
	TLSCertFile, TLSKeyFile string
}

// Server is a running throwaway slapd.
type Server struct {
	dir      string
	suffix   string
	password string
	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	waitErr  error         // the process's exit, valid once done is closed

	mu        sync.Mutex
	listeners []net.Listener
	relays    sync.WaitGroup
}

// Start writes a configuration for opts in a new temporary directory,
// loads the entries and starts slapd on it. The caller must Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if _, err := os.Stat(slapdPath); err != nil {
		return nil, fmt.Errorf("slapdtest: %s not found; install it with: %s", slapdPath, InstallHint)
	}
	suffix := opts.Suffix
	if suffix == "" {
		suffix = DefaultSuffix
	}
	dn, err := ldap.ParseDN(suffix)
	if err != nil || len(dn.RDNs) == 0 || !strings.EqualFold(dn.RDNs[0].Attributes[0].Type, "dc") {
		return nil, fmt.Errorf("slapdtest: suffix %q must be a DN that starts with dc=", suffix)
	}
	dir, err := os.MkdirTemp("", "ferry-slapdtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, suffix: suffix, password: randomHex(12), done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(s.config(opts)), 0o600); err != nil {
		return nil, err
	}
	dc := dn.RDNs[0].Attributes[0].Value
	data := fmt.Sprintf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: %s\no: %s\n\n%s", suffix, dc, dc, opts.LDIF)
	ldif := filepath.Join(dir, "data.ldif")
	if err := os.WriteFile(ldif, []byte(data), 0o600); err != nil {
		return nil, err
	}
	// -q: quick mode, no consistency checks the throwaway data needs.
	if out, err := exec.CommandContext(ctx, slapadd, "-q", "-f", conf, "-l", ldif).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapdtest: slapadd: %v\n%s", err, out)
	}
	if err := s.start(ctx, conf); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func (s *Server) config(opts Options) string {
	var b strings.Builder
	for _, schema := range []string{"core", "cosine", "nis", "inetorgperson"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", schemaDir, schema)
	}
	fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", modulePath)
	for _, o := range opts.Overlays {
		fmt.Fprintf(&b, "moduleload %s\n", o)
	}
	fmt.Fprintf(&b, "pidfile %s\n", filepath.Join(s.dir, "slapd.pid"))
	if opts.TLSCertFile != "" && opts.TLSKeyFile != "" {
		fmt.Fprintf(&b, "TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", opts.TLSCertFile, opts.TLSKeyFile)
	}
	if opts.SizeLimit > 0 {
		fmt.Fprintf(&b, "sizelimit %d\n", opts.SizeLimit)
	} else {
		b.WriteString("sizelimit unlimited\n")
	}
	fmt.Fprintf(&b, "database mdb\nsuffix %q\nrootdn %q\nrootpw %s\ndirectory %s\nmaxsize 1073741824\n",
		s.suffix, s.RootDN(), s.password, filepath.Join(s.dir, "db"))
	// Throwaway data: no fsync.
	b.WriteString("dbnosync\n")
	for _, o := range opts.Overlays {
		fmt.Fprintf(&b, "overlay %s\n", o)
	}
	return b.String()
}

func (s *Server) start(ctx context.Context, conf string) error {
	logFile, err := os.Create(filepath.Join(s.dir, "slapd.log"))
	if err != nil {
		return err
	}
	// -d none: stay in the foreground and log only what every debug
	// level logs ("slapd starting"), nothing per operation.
	cmd := exec.Command(slapdPath, "-f", conf, "-h", s.URL(), "-d", "none")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return err
	}
	cmd.Stdout = logFile
	// Should the test binary die without stopping the server, the kernel
	// stops it too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("slapdtest: start slapd: %w", err)
	}
	s.cmd = cmd
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if !signalled && strings.HasSuffix(sc.Text(), "slapd starting") {
				signalled = true
				close(started)
			}
		}
		io.Copy(logFile, stderr)
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	fail := func(err error) error {
		cmd.Process.Kill()
		<-s.done
		return err
	}
	select {
	case <-started:
	case <-s.done:
		out, _ := os.ReadFile(logFile.Name())
		return fmt.Errorf("slapdtest: slapd exited (%v):\n%s", s.waitErr, out)
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(30 * time.Second):
		return fail(errors.New("slapdtest: slapd did not start within 30s"))
	}
	// The listeners are open; a bind proves the daemon loop serves them.
	var bindErr error
	for attempt := 0; attempt < 20; attempt++ {
		var conn *ldap.Conn
		if conn, bindErr = s.Conn(); bindErr == nil {
			conn.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("slapdtest: slapd exited (%v) before accepting a bind: %v", s.waitErr, bindErr)
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return fail(fmt.Errorf("slapdtest: slapd started but refused binds: %w", bindErr))
}

// URL is the server's ldapi:// URL: its socket in the temporary directory,
// percent-encoded as RFC 4516 URLs carry a path in the host part.
func (s *Server) URL() string {
	return "ldapi://" + url.PathEscape(filepath.Join(s.dir, "ldapi"))
}

// Suffix is the database's naming context.
func (s *Server) Suffix() string { return s.suffix }

// RootDN is the DN that may do anything, limits included.
func (s *Server) RootDN() string { return "cn=admin," + s.suffix }

// RootPassword is the root DN's password.
func (s *Server) RootPassword() string { return s.password }

// Conn returns a connection bound as the root DN, for a test to change the
// directory with. The caller closes it.
func (s *Server) Conn() (*ldap.Conn, error) {
	conn, err := ldap.DialURL(s.URL(), ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		return nil, fmt.Errorf("slapdtest: dial %s: %w", s.URL(), err)
	}
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind(s.RootDN(), s.password); err != nil {
		conn.Close()
		return nil, fmt.Errorf("slapdtest: bind as %s: %w", s.RootDN(), err)
	}
	return conn, nil
}

// ListenTCP opens a listener on 127.0.0.1 at a port the kernel picks and
// relays every connection to the server's socket. It returns the listener's
// ldap:// URL. Stop and Kill close it and every relayed connection.
func (s *Server) ListenTCP() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	sock := filepath.Join(s.dir, "ldapi")
	s.relays.Add(1)
	go func() {
		defer s.relays.Done()
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				relay(c, sock, s.done)
			}()
		}
	}()
	return "ldap://" + l.Addr().String(), nil
}

// relay copies bytes both ways between c and the Unix socket at sock until
// either side closes or the server exits.
func relay(c net.Conn, sock string, serverDone <-chan struct{}) {
	defer c.Close()
	u, err := net.Dial("unix", sock)
	if err != nil {
		return
	}
	defer u.Close()
	finished := make(chan struct{}, 2)
	go func() { io.Copy(u, c); finished <- struct{}{} }()
	go func() { io.Copy(c, u); finished <- struct{}{} }()
	select {
	case <-finished:
	case <-serverDone:
	}
}

// Kill ends slapd at once (SIGKILL), as a crash or a lost server would, and
// closes the relays; clients see their connections drop. The directory stays
// until Stop.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.closeListeners()
}

// Stop shuts slapd down (SIGTERM, then SIGKILL after 10s), closes the
// relays and removes the temporary directory. It may follow Kill.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			err = errors.New("slapdtest: slapd did not stop within 10s; killed")
		}
	}
	s.closeListeners()
	return errors.Join(err, os.RemoveAll(s.dir))
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	for _, l := range s.listeners {
		l.Close()
	}
	s.listeners = nil
	s.mu.Unlock()
	s.relays.Wait()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
