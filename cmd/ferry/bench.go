package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/loadtest"
)

func newBenchCommand() *cobra.Command {
	var (
		token, report             string
		users, concurrency, pages int
		duration                  time.Duration
		scenarios                 []string
		asJSON, allowRemote, keep bool
		ceiling                   bool
	)
	var names []string
	for _, s := range loadtest.Scenarios() {
		names = append(names, s.Name)
	}
	cmd := &cobra.Command{
		Use:   "bench URL",
		Short: "Measure the throughput and latency of a SCIM 2.0 endpoint",
		Long: `Bench seeds users (and groups of up to 100 members) through a SCIM 2.0
endpoint's own API, then runs each scenario for --duration with --concurrency
workers and reports requests per second, latency percentiles (p50, p90, p99,
max) and errors by status. It deletes what it created at the end (unless
--keep). URL is the SCIM root, e.g. http://127.0.0.1:8080/scim/v2.

Scenarios: ` + strings.Join(names, ", ") + `.

With --ceiling it also measures, with the same workers, an in-process
net/http handler on loopback answering a static copy of one seeded user:
the most this machine and load generator can serve for a response of that
size. It runs for half --duration right before each scenario, and each
scenario's ratio to it is reported (the "ceiling" column; ceilingRatio in
--json), which says more than a rate alone on a machine busy with other
work.

Only loopback targets are accepted unless --allow-remote is given: point it at
endpoints you operate.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("FERRY_TOKEN")
			}
			if token == "" {
				return errors.New("a bearer token is required: --token or FERRY_TOKEN")
			}
			bar := newProgressBar(cmd.ErrOrStderr())
			rep, err := loadtest.Run(cmd.Context(), loadtest.Options{
				BaseURL: args[0], Token: token, Users: users, Concurrency: concurrency, Duration: duration,
				Scenarios: scenarios, AllowRemote: allowRemote, Keep: keep, PageSize: pages, Ceiling: ceiling,
				Progress: func(p loadtest.Progress) {
					text := fmt.Sprintf("%d/%d", p.Done, p.Total)
					if p.Unit == loadtest.Milliseconds {
						text = fmt.Sprintf("%.1fs/%.1fs", float64(p.Done)/1000, float64(p.Total)/1000)
					}
					bar.draw(fmt.Sprintf("%-18s", p.Phase), p.Done, p.Total, text)
				},
			})
			bar.finish()
			if rep == nil {
				return err
			}
			if report != "" && len(rep.Scenarios) > 0 {
				if werr := writeReportFile(report, rep); werr != nil {
					return werr
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", report)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if werr := enc.Encode(rep); werr != nil {
					return werr
				}
			} else {
				writeBenchReport(out, rep)
			}
			return err
		},
	}
	f := cmd.Flags()
	// The default is read when the command runs, not here: a default is
	// printed by --help, and the token must not be.
	f.StringVar(&token, "token", "", "bearer token for the endpoint (env FERRY_TOKEN, which keeps it out of the process list)")
	f.IntVar(&users, "users", 1000, "users to seed")
	f.IntVar(&concurrency, "concurrency", 16, "concurrent workers (connections)")
	f.DurationVar(&duration, "duration", 10*time.Second, "how long each scenario runs (list-all walks every user once instead)")
	f.IntVar(&pages, "page-size", 0, "count of the list-all walk's pages; 0 is 1000, or the endpoint's maxPageSize when smaller")
	f.StringSliceVar(&scenarios, "scenarios", nil, "scenarios to run, comma-separated (default all)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&report, "report", "", "also write a self-contained HTML report with charts to this file")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	f.BoolVar(&keep, "keep", false, "leave the seeded and created users and groups in place")
	f.BoolVar(&ceiling, "ceiling", false, "also measure a static handler serving a copy of a seeded user, and report each scenario's ratio to it")
	return cmd
}

// writeReportFile writes the HTML report atomically, so that a reader never
// sees half a page.
func writeReportFile(path string, rep *loadtest.Report) error {
	tmp, err := os.CreateTemp(dirOf(path), ".ferry-bench-*.html")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := rep.WriteHTML(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// writeBenchReport prints the human-readable summary table.
func writeBenchReport(w io.Writer, rep *loadtest.Report) {
	fmt.Fprintf(w, "ferry bench %s\n", rep.Target)
	fmt.Fprintf(w, "seeded %d users and %d groups (%d memberships) in %.1f s; %d workers, %s per scenario\n\n",
		rep.Seed.Users, rep.Seed.Groups, rep.Seed.Memberships, rep.Seed.Seconds, rep.Concurrency, rep.Duration)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "scenario\trequests\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\t"
	if rep.Ceiling != nil {
		head += "ceiling\t"
	}
	fmt.Fprintln(tw, head)
	rows := rep.Scenarios
	if rep.Ceiling != nil {
		rows = append([]loadtest.Result{rep.Ceiling.Result}, rows...)
	}
	for _, s := range rows {
		errs := "0"
		if s.Errors > 0 {
			var parts []string
			for k, v := range s.ErrorsByStatus {
				parts = append(parts, fmt.Sprintf("%s×%d", k, v))
			}
			errs = strings.Join(parts, " ")
		}
		l := s.Latency
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t", s.Name, s.Requests, s.RequestsPerSecond, l.P50, l.P90, l.P99, l.Max, errs)
		switch {
		case rep.Ceiling == nil:
		case s.Name == loadtest.CeilingName:
			fmt.Fprint(tw, "1.00\t")
		default:
			fmt.Fprintf(tw, "%.2f\t", s.CeilingRatio)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if c := rep.Ceiling; c != nil {
		fmt.Fprintf(w, "\nceiling: a static %d-byte User from an in-process net/http handler on loopback, same workers, measured for half the duration before each scenario; the ceiling column is each scenario's rate over the ceiling's just before it\n", c.Bytes)
	}
	for _, s := range rep.Scenarios {
		if walk := s.Walk; walk != nil {
			fmt.Fprintf(w, "\n%s: %d users in %d pages of %d in %.1f s; a page took %.1f ms at the start, %.1f ms at the end\n",
				s.Name, walk.Resources, walk.Pages, walk.Count, walk.Seconds, walk.FirstPagesMs, walk.LastPagesMs)
		}
	}
	for _, s := range rows {
		if s.FirstError != "" {
			fmt.Fprintf(w, "\n%s: first error: %s", s.Name, s.FirstError)
		}
	}
	switch {
	case rep.Cleanup.Kept:
		fmt.Fprintln(w, "\nkept the seeded and created resources (--keep)")
	case rep.Cleanup.Failed > 0:
		fmt.Fprintf(w, "\ncleanup: deleted %d resources, %d could not be deleted\n", rep.Cleanup.Deleted, rep.Cleanup.Failed)
	}
}
