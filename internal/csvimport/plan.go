package csvimport

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// DefaultMaxDisableShare is the largest share of the import's key space
// one run with delete-missing may disable without being forced.
const DefaultMaxDisableShare = 0.2

// Action is what an import does to one user.
type Action string

// The actions of a plan.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
	Disable   Action = "disable"
	Failed    Action = "failed"
)

// Change is the plan for one user.
type Change struct {
	Line   int // the file's line; 0 for a disable of a user the file lacks
	Key    string
	Action Action
	// ID is the directory id of the user, "" for one to create.
	ID string
	// Doc is the user to write for Create and Update: the directory's
	// document with the row's patch applied.
	Doc resource.Document
	// Ops are the row's patch, which the write applies again to the user
	// as it is then, so that a change made meanwhile is not lost.
	Ops []patch.Operation
	// Reason says why a row Failed.
	Reason string
}

// Membership is a change to one group's members: users (by key) who
// join it and users (by id) who leave it.
type Membership struct {
	Group   string // the group's displayName
	GroupID string // "" for a group to create
	Add     []string
	Remove  []string
}

// Counts sum a plan or its outcome.
type Counts struct {
	Created        int `json:"created"`
	Updated        int `json:"updated"`
	Unchanged      int `json:"unchanged"`
	Disabled       int `json:"disabled"`
	Failed         int `json:"failed"`
	GroupsCreated  int `json:"groupsCreated"`
	MembersAdded   int `json:"membersAdded"`
	MembersRemoved int `json:"membersRemoved"`
}

// Plan is what an import will do. It is complete before anything is
// written, so a dry run shows exactly what a real run does.
type Plan struct {
	Key     string
	Changes []Change // the rows in file order, then the disables
	Groups  []Membership
	// Managers are the rows' managers: user key → manager key, resolved
	// to ids when the plan is applied (a manager may be created by it).
	Managers map[string]string
	Errors   []RowError
	Counts   Counts
	// Refused says why delete-missing was refused ("" when it was not
	// asked for or is allowed). A refused plan is not applied at all: an
	// administrator who asked for deletions and was refused looks at the
	// file again before anything is written.
	Refused string
}

// Directory is what a plan is made against: the tenant's users by key,
// the users an import with delete-missing may disable, and its groups.
type Directory struct {
	// Users are the users by folded key (strings.ToLower).
	Users map[string]*store.Resource
	// KeySpace are the users delete-missing considers: those whose key
	// attribute is set.
	KeySpace []*store.Resource
	// Groups are the groups by folded displayName, with their members.
	Groups map[string]*store.Resource
}

// PlanOptions say what else an import does.
type PlanOptions struct {
	// DeleteMissing disables the active users of the key space whose key
	// no row of the file has.
	DeleteMissing bool
	// Force allows a delete-missing that disables more than
	// MaxDisableShare of the key space.
	Force bool
	// MaxDisableShare is DefaultMaxDisableShare when zero.
	MaxDisableShare float64
}

// MakePlan plans the import of f into dir.
func MakePlan(f *File, rt *schema.ResourceType, dir *Directory, opts PlanOptions) *Plan {
	p := &Plan{Key: f.Key, Errors: slices.Clone(f.Errors), Managers: map[string]string{}}
	p.Counts.Failed = len(f.Errors)
	inFile := map[string]bool{}
	for _, e := range f.Errors {
		if e.Key != "" {
			inFile[strings.ToLower(e.Key)] = true
		}
	}
	changes := planRows(f.Rows, rt, dir)
	for i, row := range f.Rows {
		inFile[strings.ToLower(row.Key)] = true
		c := changes[i]
		if c.Action == Failed {
			p.Errors = append(p.Errors, RowError{Line: row.Line, Key: row.Key, Reason: c.Reason})
		}
		p.count(c.Action)
		p.Changes = append(p.Changes, c)
		if row.Manager != "" && c.Action != Failed {
			p.Managers[row.Key] = row.Manager
		}
	}
	if f.HasGroups {
		p.Groups = planGroups(f, dir, p)
	}
	if opts.DeleteMissing {
		p.planDisables(f, dir, inFile, opts)
	}
	return p
}

func (p *Plan) count(a Action) {
	switch a {
	case Create:
		p.Counts.Created++
	case Update:
		p.Counts.Updated++
	case Unchanged:
		p.Counts.Unchanged++
	case Disable:
		p.Counts.Disabled++
	case Failed:
		p.Counts.Failed++
	}
}

// planRows plans every row, on every core: a row's plan depends on the
// row and the directory alone.
func planRows(rows []Row, rt *schema.ResourceType, dir *Directory) []Change {
	out := make([]Change, len(rows))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(rows); i = int(next.Add(1)) - 1 {
				out[i] = planRow(rows[i], rt, dir)
			}
		})
	}
	wg.Wait()
	return out
}

// planRow plans one row: its patch applied to the user the directory
// holds, or to an empty one.
func planRow(row Row, rt *schema.ResourceType, dir *Directory) Change {
	c := Change{Line: row.Line, Key: row.Key, Ops: row.Ops}
	base := resource.Document{}
	if u := dir.Users[strings.ToLower(row.Key)]; u != nil {
		c.ID, base = u.ID, u.Doc
	}
	doc, changed, err := patch.Apply(base, rt, row.Ops)
	switch {
	case err != nil:
		c.Action, c.Reason = Failed, reason(err)
	case c.ID == "":
		c.Action, c.Doc = Create, doc
	case changed:
		c.Action, c.Doc = Update, doc
	default:
		c.Action = Unchanged
	}
	return c
}

// reason is an error as an administrator reads it: a SCIM error's detail.
func reason(err error) string {
	var se *scim.Error
	if errors.As(err, &se) {
		return se.Detail
	}
	return err.Error()
}

// planGroups plans the members of the groups the file names: a user of
// the file belongs to exactly the groups of the row; users the file does
// not have keep their memberships, and groups the file does not name are
// left alone.
func planGroups(f *File, dir *Directory, p *Plan) []Membership {
	failed := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action == Failed {
			failed[strings.ToLower(c.Key)] = true
		}
	}
	var names []string
	want := map[string]map[string]bool{} // folded group name → folded user keys
	display := map[string]string{}
	for _, row := range f.Rows {
		if failed[strings.ToLower(row.Key)] {
			continue
		}
		for _, g := range row.Groups {
			fg := strings.ToLower(g)
			if want[fg] == nil {
				want[fg] = map[string]bool{}
				display[fg] = g
				names = append(names, fg)
			}
			want[fg][strings.ToLower(row.Key)] = true
		}
	}
	// The ids of the file's users that exist, to see who leaves.
	fileUser := map[string]string{} // id → folded key
	for _, row := range f.Rows {
		if u := dir.Users[strings.ToLower(row.Key)]; u != nil && !failed[strings.ToLower(row.Key)] {
			fileUser[u.ID] = strings.ToLower(row.Key)
		}
	}
	var out []Membership
	for _, fg := range names {
		m := Membership{Group: display[fg]}
		current := map[string]bool{}
		if g := dir.Groups[fg]; g != nil {
			m.GroupID = g.ID
			for _, mem := range g.Members {
				current[mem.ID] = true
				if key, ok := fileUser[mem.ID]; ok && !want[fg][key] {
					m.Remove = append(m.Remove, mem.ID)
				}
			}
		} else {
			p.Counts.GroupsCreated++
		}
		for _, row := range f.Rows {
			k := strings.ToLower(row.Key)
			if !want[fg][k] {
				continue
			}
			if u := dir.Users[k]; u != nil && current[u.ID] {
				continue
			}
			m.Add = append(m.Add, row.Key)
		}
		p.Counts.MembersAdded += len(m.Add)
		p.Counts.MembersRemoved += len(m.Remove)
		if m.GroupID == "" || len(m.Add) > 0 || len(m.Remove) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// planDisables plans delete-missing: the active users of the key space
// the file lacks are disabled, unless the file is empty or they are too
// many (opts.MaxDisableShare) without opts.Force.
func (p *Plan) planDisables(f *File, dir *Directory, inFile map[string]bool, opts PlanOptions) {
	if len(f.Rows) == 0 && len(f.Errors) == 0 {
		p.Refused = "the file has no rows: delete-missing would disable every user it manages; import a file with rows"
		return
	}
	var missing []Change
	for _, u := range dir.KeySpace {
		key, _ := u.Doc.String(f.Key)
		if key == "" || inFile[strings.ToLower(key)] {
			continue
		}
		if active, ok := u.Doc["active"].(bool); ok && !active {
			continue // disabled already
		}
		doc := u.Doc.Clone()
		doc["active"] = false
		missing = append(missing, Change{Key: key, Action: Disable, ID: u.ID, Doc: doc})
	}
	share := opts.MaxDisableShare
	if share == 0 {
		share = DefaultMaxDisableShare
	}
	if len(missing) > 0 && !opts.Force && float64(len(missing)) > share*float64(len(dir.KeySpace)) {
		p.Refused = fmt.Sprintf("delete-missing would disable %d of the %d users keyed by %s (more than %.0f%%): check the file, or force it",
			len(missing), len(dir.KeySpace), f.Key, share*100)
		return
	}
	for _, c := range missing {
		p.Changes = append(p.Changes, c)
		p.count(Disable)
	}
}
