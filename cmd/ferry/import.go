package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/csvimport"
)

func newImportCommand() *cobra.Command {
	var (
		conn                                 adminConnection
		key                                  string
		columns                              []string
		dryRun, deleteMissing, force, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import users from a CSV file (an HR export) into the directory",
		Long: `Import upserts the users of a CSV file into the tenant's directory, matching
them by --key (userName, or externalId). The first line names the columns;
common headers are understood (userName, email, givenName/first name,
familyName/last name, displayName, title, department, employeeNumber,
phone, active, manager, groups), others are ignored unless --map maps them
to a SCIM attribute path. An empty cell removes the attribute; attributes
no column maps are left as they are, so a second import of the same file
changes nothing. groups lists a user's groups separated by ; or |;
manager names the manager by key.

A bad row fails alone and is reported with its line (the header is line 1).
--delete-missing disables the users with a --key attribute that the file
lacks; an empty file, or one that would disable more than 20% of them, is
refused without --force. --dry-run shows what would change.

It calls the server's admin API, with an admin token (ferry tokens create
--scope admin) in --token or FERRY_TOKEN.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := admininput.ImportKey(key); err != nil {
				return err
			}
			mappings, err := admininput.ImportColumns(columns)
			if err != nil {
				return err
			}
			file, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			req := csvimport.Request{CSV: string(file), Key: key, Columns: mappings, DryRun: dryRun, DeleteMissing: deleteMissing, Force: force}
			// The progress stream is asked for even off a terminal: it
			// starts the answer before the writes, so no wait for it is
			// the length of the whole import.
			draw := adminview.ImportProgress(cmd.ErrOrStderr())
			progress := func(done, total int) {
				if draw != nil && !asJSON {
					draw(done, total)
				}
			}
			res, raw, err := c.Import(cmd.Context(), req, progress)
			if err != nil {
				return err
			}
			if asJSON {
				if err := adminview.Raw(cmd.OutOrStdout(), raw); err != nil {
					return err
				}
			} else {
				adminview.ImportResult(cmd.OutOrStdout(), res)
			}
			if res.Counts.Failed > 0 {
				return fmt.Errorf("%d of %d rows failed (listed above)", res.Counts.Failed, res.Rows)
			}
			if res.Refused != "" {
				return fmt.Errorf("--delete-missing was refused")
			}
			return nil
		},
	}
	conn.register(cmd)
	f := cmd.Flags()
	f.StringVar(&key, "key", "userName", "the attribute users are matched by: userName or externalId")
	f.StringArrayVar(&columns, "map", nil, "COLUMN=SCIM-PATH: map a column to an attribute path (such as \"Emp ID=externalId\" or Nickname=nickName), or to - to ignore it; repeatable")
	f.BoolVar(&dryRun, "dry-run", false, "show what would change, writing nothing")
	f.BoolVar(&deleteMissing, "delete-missing", false, "disable the users with a --key attribute that the file lacks")
	f.BoolVar(&force, "force", false, "let --delete-missing disable more than 20% of those users")
	f.BoolVar(&asJSON, "json", false, "print the API's JSON result")
	return cmd
}
