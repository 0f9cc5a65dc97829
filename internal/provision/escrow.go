package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/store"
)

// Escrow: an object whose processing failed is kept in escrow and tried
// again on its own schedule, as Entra's provisioning service escrows
// failed objects (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status),
// only sooner: a retryable failure (no response, a timeout, 5xx, 429) is
// tried again after 30 s, 2 min, 10 min and 30 min, then with every full
// cycle; a permanent one (another 4xx, a mapping that cannot be
// evaluated) waits for a change of the object or of the configuration,
// so that it is never retried in a loop. A configuration or credential
// change, a restart and ferry apps retry try every object in escrow at
// once.

// retrySchedule is the spacing of a retryable failure's tries.
var retrySchedule = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}

// escrowRecord is the engine's JSON record of an escrow's last failure
// (store.Escrow.Record).
type escrowRecord struct {
	Action string     `json:"action"`
	Error  *ErrorInfo `json:"error,omitempty"`
	Target Identity   `json:"target"`
	LogID  string     `json:"logId,omitempty"`
	// SourceVersion and ConfigVersion are the versions of the object and
	// of the configuration that failed: a permanent failure is tried again
	// when either changes.
	SourceVersion int64 `json:"sourceVersion"`
	ConfigVersion int64 `json:"configVersion"`
}

// escrowed is what a cycle knows of an object in escrow.
type escrowed struct {
	attempts      int
	retryable     bool
	nextTry       time.Time
	firstFailed   time.Time
	sourceVersion int64
	configVersion int64
}

// loadEscrows reads an application's escrows once per cycle: the cycle
// learns which objects it processes were failing, and which are due for a
// retry.
func (j *job) loadEscrows(ctx context.Context) (map[objectKey]*escrowed, error) {
	if j.escrows != nil {
		return j.escrows, nil
	}
	out := map[objectKey]*escrowed{}
	q := store.EscrowQuery{Limit: 1000}
	for {
		es, err := j.e.store.Escrows(ctx, j.app.ID, q)
		if err != nil {
			return nil, fmt.Errorf("read the objects in escrow: %w", err)
		}
		for _, e := range es {
			var rec escrowRecord
			_ = json.Unmarshal(e.Record, &rec) // a record that does not decode only loses its versions
			out[objectKey{e.SourceType, e.SourceID}] = &escrowed{attempts: e.Attempts, retryable: e.Retryable,
				nextTry: e.NextTry, firstFailed: e.FirstFailed, sourceVersion: rec.SourceVersion, configVersion: rec.ConfigVersion}
		}
		if len(es) < q.Limit {
			j.escrows = out
			return out, nil
		}
		last := es[len(es)-1]
		q.AfterType, q.AfterID = last.SourceType, last.SourceID
	}
}

// escrowKeys returns the objects in escrow a cycle retries, in order: the
// retryable ones due by now, or every one when all is set.
func (j *job) escrowKeys(ctx context.Context, all bool) ([]objectKey, error) {
	escrows, err := j.loadEscrows(ctx)
	if err != nil {
		return nil, err
	}
	now := j.e.clock.Now()
	var keys []objectKey
	for k, e := range escrows {
		if all || (e.retryable && !e.nextTry.After(now)) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b objectKey) int {
		if a.typ != b.typ {
			return strings.Compare(a.typ, b.typ)
		}
		return strings.Compare(a.id, b.id)
	})
	return keys, nil
}

// nextTry is when a retryable failure after attempts failures in a row is
// tried again.
func (j *job) nextTry(now time.Time, attempts int) time.Time {
	if attempts >= 1 && attempts <= len(retrySchedule) {
		return now.Add(retrySchedule[attempts-1])
	}
	return now.Add(fullInterval(j.cfg.Config))
}

// escrow keeps a failed object in escrow, or moves its escrow on.
func (p *pass) escrow(ctx context.Context, k objectKey, rec *LogRecord, sourceVersion int64) {
	j := p.j
	if j.guard() != nil {
		return
	}
	now := j.e.clock.Now().UTC()
	e := &store.Escrow{AppID: j.app.ID, SourceType: k.typ, SourceID: k.id, SourceName: rec.Source.DisplayName,
		Attempts: 1, FirstFailed: now, LastFailed: now}
	if prev := p.escrowOf(k); prev != nil {
		e.Attempts, e.FirstFailed = prev.attempts+1, prev.firstFailed
	}
	if rec.Error != nil {
		e.Retryable = rec.Error.Retryable
	}
	if e.Retryable {
		e.NextTry = j.nextTry(now, e.Attempts)
	}
	b, err := json.Marshal(escrowRecord{Action: rec.Action, Error: rec.Error, Target: rec.Target, LogID: rec.ID,
		SourceVersion: sourceVersion, ConfigVersion: p.configVersion})
	if err != nil {
		j.log.Error("escrow a failed object", "app", j.app.Name, "object", k.id, "err", err)
		return
	}
	e.Record = b
	if err := j.e.store.PutEscrow(context.WithoutCancel(ctx), e); err != nil {
		j.log.Error("escrow a failed object", "app", j.app.Name, "object", k.id, "err", err)
		return
	}
	p.setEscrow(k, &escrowed{attempts: e.Attempts, retryable: e.Retryable, nextTry: e.NextTry, firstFailed: e.FirstFailed,
		sourceVersion: sourceVersion, configVersion: p.configVersion})
}

// release takes an object that did not fail out of escrow.
func (p *pass) release(ctx context.Context, k objectKey) {
	if p.escrowOf(k) == nil || p.j.guard() != nil {
		return
	}
	if err := p.j.e.store.DeleteEscrow(context.WithoutCancel(ctx), p.j.app.ID, k.typ, k.id); err != nil {
		p.j.log.Error("release an object from escrow", "app", p.j.app.Name, "object", k.id, "err", err)
		return
	}
	p.setEscrow(k, nil)
}

func (p *pass) escrowOf(k objectKey) *escrowed {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.escrows[k]
}

func (p *pass) setEscrow(k objectKey, e *escrowed) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e == nil {
		delete(p.escrows, k)
		return
	}
	p.escrows[k] = e
}

// waitsForChange reports whether an object in escrow with a permanent
// failure is to be left alone: neither it nor the configuration changed
// since it failed.
func (p *pass) waitsForChange(k objectKey, r *store.Resource) bool {
	e := p.escrowOf(k)
	return e != nil && !e.retryable && !p.retrying && e.configVersion == p.configVersion && e.sourceVersion == r.Version
}
