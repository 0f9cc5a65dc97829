// Package pgtest runs a throwaway PostgreSQL server for tests: a fresh
// cluster from the installed binaries, in a temporary directory, listening
// on a free loopback port, removed when the test package is done.
//
// Tests that need PostgreSQL start the real server rather than a mock of
// it. The binaries are found through PG_BIN, then under
// /usr/lib/postgresql/*/bin (Debian's layout), then on PATH; when none is
// found, Start fails with the command that installs them, since a test
// suite that silently skips its PostgreSQL half proves nothing about it.
// PostgreSQL refuses to run as root, so when the tests run as root the
// cluster is owned by, and the server runs as, the user "postgres".
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstallHint is the command that installs the server binaries on the
// Debian machines Ferry is developed and tested on.
const InstallHint = "apt-get install -y postgresql-15"

// Server is a running throwaway PostgreSQL server.
type Server struct {
	dir  string // the temporary directory holding the cluster and the socket
	port int
	cmd  *exec.Cmd
	done chan error // receives the server process's exit
	seq  atomic.Int64
}

// Options tunes a Server. The zero value suits tests.
type Options struct {
	// Durable keeps PostgreSQL's default durability (fsync, synchronous
	// commit, full page writes), for benchmarks whose figures should be
	// those of a production server. Tests leave it off: their clusters
	// are thrown away, and syncing them only makes the tests slower.
	Durable bool
}

// Start initialises a cluster in a new temporary directory and starts a
// server on it, listening on 127.0.0.1 only. The cluster trusts local
// connections: it exists for one test run. The caller must Stop it.
func Start(ctx context.Context, opts ...Options) (*Server, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ferry-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, done: make(chan error, 1)}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	cred, err := credential(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	// A port taken by another process between this check and the
	// server's bind makes the server exit; it is then retried on another.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		err = s.start(ctx, bin, data, cred, o)
		if err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func (s *Server) start(ctx context.Context, bin, data string, cred *syscall.Credential, o Options) error {
	log, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	if cred != nil {
		os.Chown(log.Name(), int(cred.Uid), int(cred.Gid))
	}
	args := []string{"-D", data, "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"}
	if !o.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Should the test binary die without stopping the server (a test
	// timeout, a kill), the kernel stops the server too: SIGQUIT is
	// PostgreSQL's immediate shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			s.cmd, s.done = cmd, done
			return nil
		}
		select {
		case exitErr := <-done:
			out, _ := os.ReadFile(log.Name())
			return fmt.Errorf("pgtest: postgres exited (%v):\n%s", exitErr, out)
		case <-ctx.Done():
			cmd.Process.Kill()
			<-done
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("pgtest: postgres did not accept connections within 30s: %v", err)
		}
	}
}

// DSN returns the connection string of database db on the server.
func (s *Server) DSN(db string) string { return s.dsn(db) }

func (s *Server) dsn(db string) string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/" + db + "?sslmode=disable"
}

// CreateDatabase creates a new, empty database with a unique name that
// starts with prefix, and returns its connection string.
func (s *Server) CreateDatabase(ctx context.Context, prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d", sanitize(prefix), s.seq.Add(1))
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.dsn(name), nil
}

// Stop shuts the server down (fast shutdown: clients are disconnected) and
// removes its directory.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			err = errors.New("pgtest: postgres did not stop within 30s; killed")
		}
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// findBinaries returns the directory holding initdb and postgres.
func findBinaries() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("pgtest: PG_BIN=%s has no initdb and postgres", dir)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// The newest version first: "15" sorts before "9" as text.
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("pgtest: no PostgreSQL server binaries (initdb, postgres) found under PG_BIN, "+
		"/usr/lib/postgresql/*/bin or PATH; install them with: %s", InstallHint)
}

// credential returns the identity the cluster runs as: nil (the current
// user) unless running as root, which PostgreSQL refuses; then the user
// postgres, who is given dir.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the user postgres to run the server as (%s creates it): %w",
			InstallHint, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sanitize keeps the letters, digits and underscores of a database name
// prefix, lower-cased.
func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || b.Len() > 40 {
		return "db"
	}
	return b.String()
}
