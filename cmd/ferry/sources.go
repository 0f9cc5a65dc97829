package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/sourcesync"
)

func newSourcesCommand() *cobra.Command {
	var conn adminConnection
	cmd := &cobra.Command{
		Use:   "sources",
		Short: "Fill the directory from LDAP or Active Directory, through a server's admin API",
		Long: `Sources configures the directory's sources: LDAP servers (OpenLDAP, Active
Directory) whose users and groups ferry serve reads on a schedule, an
incremental pass every --interval (5m) and a full pass, which alone finds
deletions, every --full-interval (24h). It calls a running Ferry server's
admin API (/api/v1) with an admin token of the tenant (ferry tokens create
--scope admin) in --token or FERRY_TOKEN.

The objects a source creates carry the externalId ldap:SOURCE:ID and are
the source's: its passes write their mapped attributes back over other
writes. A pass that does not finish (the server went away, a size limit)
changes nothing, and a full pass that finds more than --max-shrink-percent
(20) of the source's users or groups gone disables and deletes nothing; see
ferry sources status.`,
	}
	conn.register(cmd)
	cmd.AddCommand(newSourcesCreateCommand(conn.run), newSourcesUpdateCommand(conn.run), newSourcesListCommand(conn.run),
		newSourcesShowCommand(conn.run), newSourcesStatusCommand(conn.run), newSourcesSyncCommand(conn.run),
		newSourcesDeleteCommand(conn.run))
	return cmd
}

// sourceFlags registers the configuration's flags of create and update.
func sourceFlags(cmd *cobra.Command, in *admininput.SourceFlags, passwordFile *string, startTLS *bool) {
	f := cmd.Flags()
	f.StringVar(&in.URL, "url", "", "the LDAP server: ldap://host:port or ldaps://host:port (ferry serve refuses ldapi:// sockets)")
	f.StringVar(&in.BindDN, "bind-dn", "", "the DN to bind as, e.g. cn=ferry,dc=example,dc=com")
	f.StringVar(passwordFile, "bind-password-file", "", "read the bind DN's password from this file (- for standard input); else "+admininput.BindPasswordEnv)
	f.StringVar(&in.BaseDN, "base-dn", "", "where users and groups are searched, e.g. dc=example,dc=com")
	f.StringVar(&in.UserFilter, "user-filter", "", "the LDAP filter of users; the preset's when not given")
	f.StringVar(&in.GroupFilter, "group-filter", "", "the LDAP filter of groups; the preset's when not given")
	f.StringVar(&in.Preset, "preset", "", "openldap (the default) or activedirectory: the mapping and how changes are found")
	f.StringVar(&in.Interval, "interval", "", "how often an incremental pass runs (5m when not given; 1m at least)")
	f.StringVar(&in.FullInterval, "full-interval", "", "how often a full pass runs (24h when not given)")
	f.BoolVar(startTLS, "start-tls", false, "upgrade an ldap:// connection with StartTLS before binding")
	f.IntVar(&in.MaxShrinkPercent, "max-shrink-percent", 0, "the read guard: a full pass that finds more than this percent of the source's users or groups gone disables and deletes nothing (20 when 0; 100: off)")
	f.IntVar(&in.SizeLimit, "size-limit", 0, "the most users, and groups, a pass may read (0: no limit of Ferry's own)")
	f.StringArrayVar(&in.UserMap, "user-map", nil, "SCIM-PATH=LDAP-ATTRIBUTE, replacing the preset's rules for the path (repeat; ATTRIBUTE empty maps nothing); replaces the earlier --user-map rules")
	f.StringArrayVar(&in.GroupMap, "group-map", nil, "as --user-map, for groups")
}

// readSourceFlags completes in with what only the command knows: which
// flags were given.
func readSourceFlags(cmd *cobra.Command, in *admininput.SourceFlags, startTLS *bool) {
	if cmd.Flags().Changed("start-tls") {
		in.StartTLS = startTLS
	}
	in.ShrinkSet = cmd.Flags().Changed("max-shrink-percent")
	in.SizeLimitSet = cmd.Flags().Changed("size-limit")
}

func newSourcesCreateCommand(run clientRun) *cobra.Command {
	var (
		name, typ, passwordFile string
		in                      admininput.SourceFlags
		startTLS, disabled      bool
		asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --url URL --base-dn DN [--bind-dn DN --bind-password-file FILE]",
		Short: "Create an LDAP or Active Directory source; its first full pass runs at once",
		Long: `Create a source. The bind password is read from --bind-password-file (- for
standard input) or ` + admininput.BindPasswordEnv + `, never from the command line, and is
never printed. The configuration is checked by the server before it is saved.

OpenLDAP applies its size limit (500 by default) to paged searches too: give
the bind DN a limits directive such as
  limits dn.exact="cn=ferry,dc=example,dc=com" size.prtotal=unlimited
or every full pass of a larger directory ends at the limit and changes nothing.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
			readSourceFlags(cmd, &in, &startTLS)
			var cfg sourcesync.Config
			if err := in.Apply(&cfg); err != nil {
				return err
			}
			password, err := admininput.BindPassword(passwordFile, os.Getenv(admininput.BindPasswordEnv), cmd.InOrStdin())
			if err != nil {
				return err
			}
			if cfg.BindDN != "" && password == "" {
				return fmt.Errorf("--bind-dn needs a password: give --bind-password-file FILE or set %s", admininput.BindPasswordEnv)
			}
			enabled := !disabled
			src, raw, err := c.CreateSource(cmd.Context(), sourcesync.CreateInput{Name: name, Type: typ, Config: cfg, BindPassword: password, Enabled: &enabled})
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() {
				fmt.Fprintf(cmd.OutOrStdout(), "Created source %s.", src.Name)
				if enabled {
					fmt.Fprintf(cmd.OutOrStdout(), " Its first full pass runs within seconds; run one now with: ferry sources sync %s\n", src.Name)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), " It is off: passes run with ferry sources sync %s, or on schedule once enabled (ferry sources update %s --enable)\n", src.Name, src.Name)
				}
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the source's name: letters, digits, '.', '_' or '-'; it is in the externalId of the objects it creates, so it cannot change")
	f.StringVar(&typ, "type", "ldap", "the source's type: ldap (OpenLDAP, Active Directory, any LDAP v3 server)")
	f.BoolVar(&disabled, "disabled", false, "create the source off: no scheduled passes until ferry sources update NAME --enable")
	sourceFlags(cmd, &in, &passwordFile, &startTLS)
	jsonFlag(cmd, &asJSON, "")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("url")
	cmd.MarkFlagRequired("base-dn")
	return cmd
}

func newSourcesUpdateCommand(run clientRun) *cobra.Command {
	var (
		passwordFile          string
		in                    admininput.SourceFlags
		startTLS, enable, off bool
		asJSON                bool
	)
	cmd := &cobra.Command{
		Use:   "update NAME [flags]",
		Short: "Change a source: turn it on or off, its filters, mapping, schedule or password",
		Long: `Change a source. Flags not given keep their values. A new bind password is
read from --bind-password-file only. A pass running finishes with the
configuration it started with.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if enable && off {
				return fmt.Errorf("give --enable or --disable, not both")
			}
			readSourceFlags(cmd, &in, &startTLS)
			cur, _, err := c.Source(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cfg := cur.Config
			if err := in.Apply(&cfg); err != nil {
				return err
			}
			ch := sourcesync.UpdateInput{Config: &cfg, Version: cur.Version}
			if passwordFile != "" {
				pw, err := admininput.BindPassword(passwordFile, "", cmd.InOrStdin())
				if err != nil {
					return err
				}
				ch.BindPassword = &pw
			}
			if enable || off {
				ch.Enabled = &enable
			}
			src, raw, err := c.UpdateSource(cmd.Context(), args[0], ch)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Source(cmd.OutOrStdout(), src) })
		}),
	}
	sourceFlags(cmd, &in, &passwordFile, &startTLS)
	cmd.Flags().BoolVar(&enable, "enable", false, "run scheduled passes")
	cmd.Flags().BoolVar(&off, "disable", false, "run no scheduled passes (ferry sources sync still runs one)")
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newSourcesListCommand(run clientRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the sources and their last passes", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
			list, raw, err := c.Sources(cmd.Context())
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Sources(cmd.OutOrStdout(), list) })
		})}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newSourcesShowCommand(run clientRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "show NAME", Short: "Show a source's configuration and its last pass", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			src, raw, err := c.Source(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Source(cmd.OutOrStdout(), src) })
		})}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newSourcesStatusCommand(run clientRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "status NAME", Short: "Show where a source's passes stand: the last one, why it failed or was held back, the next", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			st, raw, err := c.SourceStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.SourceStatus(cmd.OutOrStdout(), args[0], st) })
		})}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newSourcesSyncCommand(run clientRun) *cobra.Command {
	var full, allowShrink, asJSON bool
	cmd := &cobra.Command{
		Use:   "sync NAME [--full] [--allow-shrink]",
		Short: "Run a pass of a source now and show what it did",
		Long: `Run a pass now: incremental (the changes since the last pass) unless --full
is given, the source has not run yet or its full pass is due; only a full
pass finds deletions. A pass that failed exits with status 1 and says why;
it changed nothing. --allow-shrink lets one full pass through the read
guard, once you have checked that the directory really lost the users or
groups it reports gone.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			p, raw, err := c.SyncSource(cmd.Context(), args[0], full, allowShrink)
			if err != nil {
				return err
			}
			if err := show(cmd, asJSON, raw, func() { adminview.Pass(cmd.OutOrStdout(), args[0], p) }); err != nil {
				return err
			}
			if p.Outcome == sourcesync.OutcomeFailed {
				return fmt.Errorf("the pass of %s failed; nothing was changed", args[0])
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&full, "full", false, "a full pass: read the whole directory, and find deletions")
	cmd.Flags().BoolVar(&allowShrink, "allow-shrink", false, "let this pass disable and delete past the read guard's threshold")
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newSourcesDeleteCommand(run clientRun) *cobra.Command {
	var release bool
	cmd := &cobra.Command{
		Use:   "delete NAME [--release]",
		Short: "Delete a source; one that owns objects needs --release",
		Long: `Delete a source. A source that owns users or groups in the directory is
refused unless --release is given: its objects then lose the externalId
that made them the source's and stay in the directory as ordinary objects,
which SCIM clients and administrators manage. To remove them instead,
delete them (ferry users delete, ferry groups delete) before the source.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			res, _, err := c.DeleteSource(cmd.Context(), args[0], release)
			if err != nil {
				return err
			}
			adminview.SourceDeleted(cmd.OutOrStdout(), res)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&release, "release", false, "keep the source's objects as ordinary ones, their externalId removed")
	return cmd
}
