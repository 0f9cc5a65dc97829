package provision_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/ferryid/ferry/internal/provision"
)

// recordingObserver records what the engine tells its Observer.
type recordingObserver struct {
	mu         sync.Mutex
	cycles     []string // "kind outcome"
	objects    map[string]int
	quarantine map[string]bool // by app id
	statuses   map[int]int
	lags       int
}

func (o *recordingObserver) TargetRequest(_ string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.statuses[status]++
}

func (o *recordingObserver) CycleEnded(kind, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cycles = append(o.cycles, kind+" "+outcome)
}

func (o *recordingObserver) ObjectProcessed(action, status string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[action+" "+status]++
}

func (o *recordingObserver) Quarantine(appID, _ string, quarantined bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.quarantine[appID] = quarantined
}

func (o *recordingObserver) ChangeLag(time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lags++
}

// TestObserverQuarantine: a target that refuses the credentials
// quarantines the job, and the observer is told of the cycle, its outcome,
// the failed object, the 401 and the quarantine.
func TestObserverQuarantine(t *testing.T) {
	ctx := context.Background()
	obs := &recordingObserver{objects: map[string]int{}, quarantine: map[string]bool{}, statuses: map[int]int{}}
	d := newDirectoryWith(t, func(o *Options) { o.Observer = obs })
	tg := newTarget(t)
	d.seedUsers(t, 3, "Engineer")
	const name = "refused"
	if _, err := d.m.CreateApp(ctx, d.tenant, NewApp{Name: name, Template: "ringcentral", TenantURL: tg.url, SecretToken: "not-the-token", Scope: ScopeAll}); err != nil {
		t.Fatal(err)
	}
	v, err := d.m.App(ctx, d.tenant, name)
	if err != nil {
		t.Fatal(err)
	}
	d.cycle(t, name, true)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if got := fmt.Sprint(obs.cycles); got != "[initial quarantined]" {
		t.Errorf("cycles %s, want [initial quarantined]", got)
	}
	if q, ok := obs.quarantine[v.ID]; !ok || !q {
		t.Errorf("quarantine of %s: %v, %v; want told, true", v.ID, q, ok)
	}
	if obs.statuses[401] == 0 {
		t.Errorf("no 401 observed: %v", obs.statuses)
	}
	if obs.objects["create failure"] == 0 && obs.objects["other failure"] == 0 {
		t.Errorf("no failed object observed: %v", obs.objects)
	}
}
