package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which make test installs when it is
// missing (the chromium target of the Makefile).
const chromiumPath = "/usr/bin/chromium"

// browserSession drives a headless Chromium through the console of one
// ferry serve, saving a full-page PNG of every page it visits when
// FERRY_UI_SCREENSHOTS names a directory.
type browserSession struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int
}

func newBrowserSession(t *testing.T, base string) *browserSession {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the console's browser test needs Chromium at %s (make test installs Debian's chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, and must not have a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b := &browserSession{t: t, ctx: ctx, base: base, shots: os.Getenv("FERRY_UI_SCREENSHOTS")}
	if b.shots != "" {
		if err := os.MkdirAll(b.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// do runs steps, each bounded in time, and fails the test with what it was
// doing if one fails.
func (b *browserSession) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, b.text())
	}
}

// submit clicks sel (a submit button) and waits for the page it leads to.
func (b *browserSession) submit(what string, sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, b.text())
	}
	b.shot(what)
}

// open navigates to path and saves the page.
func (b *browserSession) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.shot(path)
}

// text is the page's visible text.
func (b *browserSession) text() string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return s
}

// see fails the test unless the page shows want.
func (b *browserSession) see(what, want string) {
	b.t.Helper()
	if text := b.text(); !strings.Contains(text, want) {
		b.t.Fatalf("%s: the page does not show %q:\n%s", what, want, text)
	}
}

// waitFor waits until the JavaScript predicate holds on the page.
func (b *browserSession) waitFor(what, predicate string, within time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, within+10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, b.text())
	}
	b.shot(what)
}

// shot saves a full-page PNG of the page, when asked to.
func (b *browserSession) shot(name string) {
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot of %s: %v", name, err)
		return
	}
	b.n++
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name)
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, strings.Trim(clean, "-"))), png, 0o644); err != nil {
		b.t.Error(err)
	}
}

// TestConsoleTutorial walks Entra's RingCentral provisioning tutorial in
// the console with a real Chromium: one ferry serve (A) is the directory
// and its engine, the other (B) the application. It signs in, adds the
// RingCentral application pointed at B, enters the credentials and tests
// the connection, saves a mapping with an invalid expression (refused,
// nothing saved) then a valid one, adds a scoping filter, assigns a user
// and a group, turns provisioning On, watches the cycle reach 100% and
// the users appear in B, opens a log record, provisions on demand and
// turns provisioning Off.
func TestConsoleTutorial(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	const password = "a console password of some length"
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ferryCLI(t, nil, "admins", "create", "--database", "sqlite:"+dbA, "--email", "ann@example.com", "--role", "admin", "--password-file", pwFile)
	scimA := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA))
	tokenB := lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbB, "--tenant", "ringcentral"))
	procB := startFerry(t, dbB)
	// A provisions into B on loopback, which its engine reaches only when
	// allowed to.
	procA := startFerry(t, dbA, "--secret-key-file", filepath.Join(dir, "a.key"), "--engine-poll-interval", "100ms",
		"--egress-allow", "loopback")

	// The directory: alice and bob in Sales, carol in Ops; Engineering
	// holds bob and carol.
	a := scimClient{procA.url(), scimA, &http.Client{}}
	b := scimClient{procB.url(), tokenB, &http.Client{}}
	ids := map[string]string{}
	for _, u := range []struct{ name, department string }{{"alice", "Sales"}, {"bob", "Sales"}, {"carol", "Ops"}} {
		status, _, doc := a.do(t, "POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"userName":"%s@example.com","active":true,"name":{"givenName":"%s","familyName":"Example"},
			"emails":[{"type":"work","value":"%s@example.com","primary":true}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":%q}}`, u.name, u.name, u.name, u.department))
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %v", u.name, status, doc)
		}
		ids[u.name] = doc["id"].(string)
	}
	if status, _, doc := a.do(t, "POST", "/Groups", fmt.Sprintf(`{"displayName":"Engineering","members":[{"value":%q},{"value":%q}]}`, ids["bob"], ids["carol"])); status != http.StatusCreated {
		t.Fatalf("create the group: %d %v", status, doc)
	}

	br := newBrowserSession(t, procA.url())

	// Sign in.
	br.open("/")
	br.see("signed out, / shows the sign-in", "Sign in to Ferry")
	br.do("fill the sign-in form", chromedp.SetValue(chromedp.ID("email"), "ann@example.com"), chromedp.SetValue(chromedp.ID("password"), password))
	br.submit("sign in", "form[action='/signin'] button[type=submit]")
	br.see("after sign-in", "Applications")

	// Add RingCentral from the gallery, pointed at B.
	br.open("/apps/new")
	br.do("fill the gallery form",
		chromedp.Click(chromedp.CSS("input[name=template][value=ringcentral]")),
		chromedp.SetValue(chromedp.ID("name"), "RingCentral"),
		chromedp.SetValue(chromedp.ID("tenantUrl"), procB.url()+"/scim/v2"),
		chromedp.SetValue(chromedp.ID("secretToken"), tokenB))
	br.submit("add the application", "form[action='/apps'] button[type=submit]")
	br.see("the application's page", "Admin Credentials")

	// Admin Credentials: save, then Test Connection, whose result shows in place.
	br.submit("save the credentials", "form[action$='/credentials'] button[type=submit]")
	br.see("credentials saved", "Admin credentials saved.")
	br.do("Test Connection", chromedp.Click(chromedp.CSS("button[hx-post$='/test']")))
	br.waitFor("Test Connection's result", `document.querySelector('#test-result')?.innerText.includes('Test Connection succeeded')`, 30*time.Second)

	// A mapping with an invalid expression is refused and nothing is saved;
	// a valid one is saved.
	br.open("/apps/RingCentral/mappings/User/new")
	br.do("fill an invalid mapping",
		chromedp.SetValue(chromedp.ID("type"), "expression"),
		chromedp.SetValue(chromedp.ID("source"), `join(" ", [name.givenName])`),
		chromedp.SetValue(chromedp.ID("target"), "nickName"))
	br.submit("save an invalid mapping", "#mapping-form button[type=submit]")
	br.see("the invalid mapping's error", "unknown function")
	br.open("/apps/RingCentral/mappings")
	if strings.Contains(br.text(), "nickName") {
		t.Fatal("the invalid mapping was saved")
	}
	br.open("/apps/RingCentral/mappings/User/new")
	br.do("fill a valid mapping",
		chromedp.SetValue(chromedp.ID("type"), "expression"),
		chromedp.SetValue(chromedp.ID("source"), `Join(" ", [name.givenName], [name.familyName])`),
		chromedp.SetValue(chromedp.ID("target"), "nickName"),
		chromedp.SetValue(chromedp.ID("tryUser"), "alice@example.com"),
		chromedp.Click(chromedp.CSS("button[hx-post$='/mappings/try']")))
	br.waitFor("try it", `document.querySelector('#tried')?.innerText.includes('alice Example')`, 30*time.Second)
	br.submit("save a valid mapping", "#mapping-form button[type=submit]")
	br.see("the saved mapping", "nickName")

	// A scoping filter: Sales only.
	br.open("/apps/RingCentral/scoping/User")
	br.do("fill a scoping clause",
		chromedp.SetValue(chromedp.ID("attribute"), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
		chromedp.SetValue(chromedp.ID("operator"), "EQUALS"),
		chromedp.SetValue(chromedp.ID("value"), "Sales"))
	br.submit("add the scoping clause", "form[action$='/add'] button[type=submit]")
	br.see("the scoping clause", "Scoping clause added.")

	// Assign alice, and Engineering (bob in Sales, carol in Ops).
	br.open("/apps/RingCentral/assignments?q=alice")
	br.submit("assign alice", "button[aria-label='Assign alice@example.com']")
	br.see("alice assigned", "User assigned.")
	br.open("/apps/RingCentral/assignments?q=Engineering")
	br.submit("assign Engineering", "button[aria-label='Assign Engineering']")
	br.see("Engineering assigned", "Group assigned.")

	// Provisioning On; the cycle's progress updates in place to 100%.
	br.open("/apps/RingCentral")
	br.do("choose On", chromedp.Click(chromedp.CSS("input[name=status][value=on]")))
	br.submit("turn provisioning On", "form[action$='/provisioning'] button[type=submit]")
	br.see("provisioning On", "Provisioning is On.")
	br.waitFor("the initial cycle completes", `(() => {
		const s = document.querySelector('#status'), p = document.querySelector('#progress');
		return !!s && !!p && p.value == 100 && s.innerText.includes('completed');
	})()`, 90*time.Second)

	// alice and bob are in B; carol, out of the scoping filter, is not.
	for _, who := range []string{"alice", "bob"} {
		u := findUser(t, b, who+"@example.com")
		if u == nil {
			t.Fatalf("%s was not provisioned to B", who)
		}
		if nick, _ := u["nickName"].(string); nick != who+" Example" {
			t.Errorf("%s's nickName in B: %q, want the mapped %q", who, nick, who+" Example")
		}
	}
	if findUser(t, b, "carol@example.com") != nil {
		t.Error("carol, outside the scoping filter, was provisioned")
	}

	// A log record, opened.
	br.open("/apps/RingCentral/logs")
	br.see("the provisioning logs", "alice@example.com")
	br.do("open a log record", chromedp.Click(chromedp.CSS("table.list details summary")))
	br.waitFor("the record's steps", `document.querySelector('table.list details[open]')?.innerText.includes('Steps')`, 10*time.Second)

	// Provision on demand.
	br.open("/apps/RingCentral/ondemand")
	br.do("name alice", chromedp.SetValue(chromedp.ID("user"), "alice@example.com"))
	br.submit("provision alice on demand", "form[action$='/ondemand'] button[type=submit]")
	br.see("what provisioning on demand did", "What happened")

	// A narrow screen (a phone's width) reads the same pages without
	// scrolling sideways.
	br.do("a narrow window", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/apps", "/apps/RingCentral", "/apps/RingCentral/logs"} {
		br.open(path)
		br.waitFor("no sideways scrolling on "+path, `document.documentElement.scrollWidth <= window.innerWidth + 1`, 5*time.Second)
	}
	br.do("a wide window again", chromedp.EmulateViewport(1280, 800))

	// Provisioning Off.
	br.open("/apps/RingCentral")
	br.do("choose Off", chromedp.Click(chromedp.CSS("input[name=status][value=off]")))
	br.submit("turn provisioning Off", "form[action$='/provisioning'] button[type=submit]")
	br.see("provisioning Off", "Provisioning is Off.")
	if out := ferryCLI(t, []string{"FERRY_SERVER=" + procA.url(), "FERRY_TOKEN=" + lastLine(ferryCLI(t, nil, "tokens", "create", "--database", "sqlite:"+dbA, "--scope", "admin"))},
		"apps", "status", "RingCentral"); !strings.Contains(strings.ToLower(out), "off") {
		t.Errorf("the engine's status after Off:\n%s", out)
	}
}
