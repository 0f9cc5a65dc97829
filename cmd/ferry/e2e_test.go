package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryid/ferry/internal/pgtest"
)

// ferryBinary is the ferry command built once for the end-to-end tests.
var ferryBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ferryBinary = filepath.Join(dir, "ferry")
	build := exec.Command("go", "build", "-o", ferryBinary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ferry: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if pg.server != nil {
		if err := pg.server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// pg is the throwaway PostgreSQL server of the tests that need one,
// started by the first of them.
var pg struct {
	once   sync.Once
	server *pgtest.Server
	err    error
}

// postgresDatabase returns the URL of a new, empty PostgreSQL database.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	pg.once.Do(func() { pg.server, pg.err = pgtest.Start(context.Background()) })
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	dsn, err := pg.server.CreateDatabase(context.Background(), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// skipShort skips an end-to-end test between ferry serve processes in
// the quick loop (go test -short, make test-short); make test runs it.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("an end-to-end test between ferry serve processes: make test runs it")
	}
}

// databaseArg turns a SQLite file path into a --database value; a
// PostgreSQL URL is one already.
func databaseArg(database string) string {
	if isPostgres(database) {
		return database
	}
	return "sqlite:" + database
}

// serveCommand is a ferry serve command on database (a SQLite file path
// or a PostgreSQL URL), listening on a loopback port the kernel picks, with
// more flags in args.
func serveCommand(database string, args ...string) *exec.Cmd {
	return exec.Command(ferryBinary, append([]string{"serve", "--listen", "127.0.0.1:0", "--database", databaseArg(database)}, args...)...)
}

// ferryProcess is a running ferry serve.
type ferryProcess struct {
	cmd  *exec.Cmd
	addr string // host:port it listens on
	logs *lockedBuffer
}

// url is the process's root URL.
func (p *ferryProcess) url() string { return "http://" + p.addr }

// startFerry starts ferry serve on database with more flags in args (see
// serveCommand) and returns once it listens.
func startFerry(t *testing.T, database string, args ...string) *ferryProcess {
	t.Helper()
	return startProcess(t, serveCommand(database, args...))
}

// servingLine finds the address in the line ferry serve logs once it
// listens.
var servingLine = regexp.MustCompile(`msg="ferry serving" addr=http://(\S+)`)

// workDirs holds each test's working directory for the processes it
// starts (see workDir).
var workDirs sync.Map // test name → directory

// workDir is the directory the processes a test starts run in: one per
// test, so that its processes share what ferry serve creates by default
// in its working directory (the secret key file, as replicas must), and
// nothing lands in the source tree.
func workDir(t *testing.T) string {
	t.Helper()
	if dir, ok := workDirs.Load(t.Name()); ok {
		return dir.(string)
	}
	dir := t.TempDir()
	if prev, loaded := workDirs.LoadOrStore(t.Name(), dir); loaded {
		return prev.(string)
	}
	t.Cleanup(func() { workDirs.Delete(t.Name()) })
	return dir
}

// startProcess starts a ferry serve command listening on port 0 and waits
// for the line it logs once it listens, which names the port: no port is
// chosen in advance, so none can be taken by someone else meanwhile. The
// process is killed when the test ends, if it still runs; its log is shown
// if the test failed.
func startProcess(t *testing.T, cmd *exec.Cmd) *ferryProcess {
	t.Helper()
	if cmd.Dir == "" {
		cmd.Dir = workDir(t)
	}
	// The child writes its log into a pipe this test reads line by line:
	// the serving line is a signal, not something to poll for.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatal(err)
	}
	pw.Close() // the child holds its own copy
	p := &ferryProcess{cmd: cmd, logs: &lockedBuffer{}}
	addrs := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		defer close(addrs)
		defer pr.Close()
		lines := bufio.NewReader(pr)
		found := false
		for {
			line, err := lines.ReadString('\n')
			p.logs.Write([]byte(line))
			if m := servingLine.FindStringSubmatch(line); m != nil && !found {
				found = true
				addrs <- m[1]
			}
			if err != nil {
				return // the process ended
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		<-drained
		if t.Failed() {
			t.Logf("ferry serve %s logs:\n%s", p.addr, p.logs.String())
		}
	})
	select {
	case addr, ok := <-addrs:
		if !ok {
			cmd.Wait()
			<-drained
			t.Fatalf("ferry serve ended before it listened:\n%s", p.logs.String())
		}
		p.addr = addr
	case <-time.After(time.Minute):
		t.Fatalf("ferry serve did not listen within a minute:\n%s", p.logs.String())
	}
	resp, err := http.Get(p.url() + "/healthz")
	if err != nil {
		t.Fatalf("ferry serve listens on %s but /healthz fails: %v", p.addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ferry serve on %s: /healthz answered %s", p.addr, resp.Status)
	}
	return p
}

func createToken(t *testing.T, database string) string {
	t.Helper()
	out, err := exec.Command(ferryBinary, "tokens", "create", "--database", databaseArg(database), "--name", "e2e").Output()
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func postUser(client *http.Client, base, token, userName string) (string, int, error) {
	req, _ := http.NewRequest("POST", base+"/scim/v2/Users", strings.NewReader(`{"userName":"`+userName+`"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var body struct{ ID string }
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &body)
	return body.ID, resp.StatusCode, nil
}

// TestAcknowledgedWritesSurviveKill9 writes users in a loop, kills the
// server with SIGKILL mid-stream, restarts it on the same database and
// checks that every user acknowledged with 201 is there.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	skipShort(t)
	database := filepath.Join(t.TempDir(), "ferry.db")
	token := createToken(t, database)
	server := startFerry(t, database)
	client := &http.Client{Timeout: 5 * time.Second}

	// The kill comes once this many writes were acknowledged, in the
	// middle of a stream of them.
	const killAfter = 200
	acked := map[string]string{} // userName → id
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	enough := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			name := fmt.Sprintf("user-%05d", i)
			id, status, err := postUser(client, server.url(), token, name)
			if err != nil {
				return // the server is gone
			}
			if status == http.StatusCreated {
				acked[name] = id
				if len(acked) == killAfter {
					close(enough)
				}
			}
		}
	}()
	select {
	case <-enough:
	case <-done:
		t.Fatalf("the writes stopped after %d acknowledgements, before the kill", len(acked))
	}
	if err := server.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	server.cmd.Wait()
	<-done

	base := startFerry(t, database).url()
	for name, id := range acked {
		req, _ := http.NewRequest("GET", base+"/scim/v2/Users/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("acknowledged user %s (%s) is missing after kill -9: %d", name, id, resp.StatusCode)
		}
	}
	t.Logf("%d acknowledged writes all survived kill -9", len(acked))
}

// TestServeGracefulShutdown checks that SIGTERM stops the server cleanly
// and that it starts again on the same database.
func TestServeGracefulShutdown(t *testing.T) {
	database := filepath.Join(t.TempDir(), "ferry.db")
	server := startFerry(t, database)
	if err := server.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := server.cmd.Wait(); err != nil {
		t.Fatalf("ferry exited with %v after SIGTERM", err)
	}
	startFerry(t, database)
}

// TestTokensCommands checks the token lifecycle through the CLI and the API.
func TestTokensCommands(t *testing.T) {
	database := filepath.Join(t.TempDir(), "ferry.db")
	token := createToken(t, database)
	if len(token) < 43 {
		t.Fatalf("token %q is shorter than 256 bits of base64", token)
	}
	out, err := exec.Command(ferryBinary, "tokens", "list", "--database", database).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), token) || !strings.Contains(string(out), token[:6]) {
		t.Fatalf("tokens list shows the token or lacks its prefix:\n%s", out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Scan() // header
	sc.Scan()
	id := strings.Fields(sc.Text())[0]

	base := startFerry(t, database).url()
	status := func() int {
		req, _ := http.NewRequest("GET", base+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(); s != 200 {
		t.Fatalf("new token: %d", s)
	}
	if out, err := exec.Command(ferryBinary, "tokens", "revoke", id, "--database", database).CombinedOutput(); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	// A server caches verified tokens for 5 seconds.
	eventually(t, 10*time.Second, func() string {
		if s := status(); s != 401 {
			return fmt.Sprintf("the revoked token is still accepted: %d", s)
		}
		return ""
	})
}

// TestDatabasePasswordNeverShown starts ferry on a PostgreSQL server that
// is not there: the error names the database without its password.
func TestDatabasePasswordNeverShown(t *testing.T) {
	// Nothing listens on port 1, and no unprivileged process can.
	const addr = "127.0.0.1:1"
	for _, db := range []string{
		"postgres://ferry:s3cret-pw@" + addr + "/ferry?sslmode=disable&connect_timeout=2",
		"postgres://ferry@" + addr + "/ferry?sslmode=disable&password=s3cret-pw&connect_timeout=2",
	} {
		out, err := exec.Command(ferryBinary, "serve", "--listen", "127.0.0.1:0", "--database", db).CombinedOutput()
		if err == nil {
			t.Fatalf("serve on a database that is not there succeeded: %s", out)
		}
		if strings.Contains(string(out), "s3cret-pw") || !strings.Contains(string(out), "xxxxx") {
			t.Errorf("output %q: want the password replaced by xxxxx", out)
		}
	}
}

// metricsLine finds the metrics URL in the line ferry serve logs once it
// listens.
var metricsLine = regexp.MustCompile(`msg="ferry serving" .*metrics=(http://\S+)`)

// TestServeMetrics checks where ferry serve serves /metrics: on its
// listener, or with --metrics-listen on that address only.
func TestServeMetrics(t *testing.T) {
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	dir := t.TempDir()
	p := startFerry(t, filepath.Join(dir, "one.db"))
	if code, body := get(p.url() + "/metrics"); code != 200 || !strings.Contains(body, "ferry_http_requests_total") {
		t.Fatalf("/metrics on the listener: %d\n%s", code, body)
	}
	p = startFerry(t, filepath.Join(dir, "two.db"), "--metrics-listen", "127.0.0.1:0")
	m := metricsLine.FindStringSubmatch(p.logs.String())
	if m == nil || strings.Contains(m[1], p.addr) {
		t.Fatalf("no metrics address of its own in the log:\n%s", p.logs.String())
	}
	if code, body := get(m[1]); code != 200 || !strings.Contains(body, "ferry_db_connections_open") {
		t.Fatalf("/metrics on --metrics-listen: %d\n%s", code, body)
	}
	if code, _ := get(p.url() + "/metrics"); code != 404 {
		t.Fatalf("/metrics on the listener with --metrics-listen: %d, want 404", code)
	}
}
