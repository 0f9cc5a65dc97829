package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// databaseArg turns a SQLite file path into a --database value; a
// PostgreSQL URL is one already.
func databaseArg(database string) string {
	if isPostgres(database) {
		return database
	}
	return "sqlite:" + database
}

// startFerry runs `ferry serve` on a SQLite file path or a PostgreSQL URL
// and waits until /healthz answers. The process is killed when the test
// ends, if it still runs.
func startFerry(t *testing.T, addr, database string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(ferryBinary, "serve", "--listen", addr, "--database", databaseArg(database))
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ferry did not become healthy: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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
	addr := freePort(t)
	token := createToken(t, database)
	server := startFerry(t, addr, database)
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second}

	acked := map[string]string{} // userName → id
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			name := fmt.Sprintf("user-%05d", i)
			id, status, err := postUser(client, base, token, name)
			if err != nil {
				return // the server is gone
			}
			if status == http.StatusCreated {
				acked[name] = id
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	server.Wait()
	<-done
	if len(acked) < 10 {
		t.Fatalf("only %d writes were acknowledged before the kill", len(acked))
	}

	startFerry(t, addr, database)
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
	addr := freePort(t)
	server := startFerry(t, addr, database)
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := server.Wait(); err != nil {
		t.Fatalf("ferry exited with %v after SIGTERM", err)
	}
	startFerry(t, addr, database)
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

	addr := freePort(t)
	startFerry(t, addr, database)
	status := func() int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users", nil)
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
	deadline := time.Now().Add(10 * time.Second)
	for status() != 401 {
		if time.Now().After(deadline) {
			t.Fatal("the revoked token is still accepted after 10 seconds")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDatabasePasswordNeverShown starts ferry on a PostgreSQL server that
// is not there: the error names the database without its password.
func TestDatabasePasswordNeverShown(t *testing.T) {
	addr := freePort(t) // nothing listens there
	for _, db := range []string{
		"postgres://ferry:s3cret-pw@" + addr + "/ferry?sslmode=disable&connect_timeout=2",
		"postgres://ferry@" + addr + "/ferry?sslmode=disable&password=s3cret-pw&connect_timeout=2",
	} {
		out, err := exec.Command(ferryBinary, "serve", "--listen", freePort(t), "--database", db).CombinedOutput()
		if err == nil {
			t.Fatalf("serve on a database that is not there succeeded: %s", out)
		}
		if strings.Contains(string(out), "s3cret-pw") || !strings.Contains(string(out), "xxxxx") {
			t.Errorf("output %q: want the password replaced by xxxxx", out)
		}
	}
}
