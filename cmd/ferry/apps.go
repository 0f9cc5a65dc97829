package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/provision"
)

func newAppsCommand() *cobra.Command {
	var conn adminConnection
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Configure applications and their provisioning, through a server's admin API",
		Long: `Apps configures the applications a tenant provisions into, who is assigned
to them, and their provisioning jobs, by calling a running Ferry server's
admin API (/api/v1). It needs an admin token of the tenant:

  ferry tokens create --scope admin

Pass it with --token or, to keep it out of the process list, FERRY_TOKEN.`,
	}
	conn.register(cmd)
	run := conn.run

	cmd.AddCommand(
		newAppsTemplatesCommand(run),
		newAppsCreateCommand(run),
		newAppsUpdateCommand(run),
		newAppsListCommand(run),
		newAppsShowCommand(run),
		newAppsDeleteCommand(run),
		newAppsAssignCommand(run),
		newAppsUnassignCommand(run),
		newAppsAssignmentsCommand(run),
		newAppsTestConnectionCommand(run),
		newAppsSchemaCommand(run),
		newAppsStartCommand(run),
		newAppsStopCommand(run),
		newAppsRestartCommand(run),
		newAppsRetryCommand(run),
		newAppsStatusCommand(run),
		newAppsFailuresCommand(run),
		newAppsLogsCommand(run),
		newAppsProvisionCommand(run),
		newAppsPlanCommand(run),
		newAppsAllowDeletesCommand(run),
		newAppsRejectDeletesCommand(run),
		newAppsAuditCommand(run),
	)
	return cmd
}

// appsRun gives a command body the admin API client.
type appsRun func(fn func(cmd *cobra.Command, c *adminclient.Client, args []string) error) func(*cobra.Command, []string) error

// jsonFlag registers --json, which prints the API's answer as it is.
func jsonFlag(cmd *cobra.Command, asJSON *bool, what string) {
	cmd.Flags().BoolVar(asJSON, "json", false, "print the API's JSON"+what)
}

// show prints an answer: raw, the server's JSON, with --json, else what
// human writes.
func show(cmd *cobra.Command, asJSON bool, raw []byte, human func()) error {
	if asJSON {
		return adminview.Raw(cmd.OutOrStdout(), raw)
	}
	human()
	return nil
}

// changedString is the value of a string flag, nil when it was not given.
func changedString(cmd *cobra.Command, name string, v *string) *string {
	if cmd.Flags().Changed(name) {
		return v
	}
	return nil
}

func newAppsTemplatesCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the application templates",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
			names, raw, err := c.Templates(cmd.Context())
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Templates(cmd.OutOrStdout(), names) })
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsCreateCommand(run appsRun) *cobra.Command {
	var (
		name, template, tenantURL, secret, scope string
		in                                       admininput.AppFlags
		asJSON                                   bool
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --template TEMPLATE --tenant-url URL",
		Short: "Create an application; provisioning starts Off",
		Long: `Create an application from a template (see ferry apps templates): where its
SCIM endpoint is (--tenant-url, Entra's "Tenant URL") and the bearer token
Ferry sends it (Entra's "Secret Token"). The secret token is read from
--secret-token-file (- for standard input), --secret-token or
FERRY_SECRET_TOKEN; the file and the variable keep it out of the process
list. It is never printed.

--config-file replaces the template's configuration with a JSON file: a
configuration in the admin API's Config format (see api/openapi.json), or
what ferry apps show NAME --json prints, whose configuration (and template,
when --template is not given) is taken, so that an application is copied
with

  ferry apps show RingCentral --json > rc.json
  ferry apps create --name "RingCentral (test)" --config-file rc.json`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
			in.Name, in.Template, in.TenantURL, in.Scope = &name, &template, &tenantURL, &scope
			in.SecretToken = changedString(cmd, "secret-token", &secret)
			in.Stdin = cmd.InOrStdin()
			newApp, err := in.NewApp(os.Getenv("FERRY_SECRET_TOKEN"))
			if err != nil {
				return err
			}
			app, raw, err := c.CreateApp(cmd.Context(), newApp)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Created(cmd.OutOrStdout(), app) })
		}),
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the application's name, unique in the tenant")
	f.StringVar(&template, "template", "", "the template to start from: ringcentral, scim, ... (ferry apps templates)")
	f.StringVar(&tenantURL, "tenant-url", "", "the application's SCIM base URL, e.g. https://platform.ringcentral.com/scim/v2")
	f.StringVar(&secret, "secret-token", "", "the bearer token Ferry sends the application (prefer FERRY_SECRET_TOKEN or --secret-token-file)")
	f.StringVar(&scope, "scope", "", "who is provisioned: assigned (assigned users and groups) or all; the template's when not given")
	fileFlags(cmd, &in, "read the secret token from this file (- for standard input)",
		"read the secret that signs the notices sent to the configuration's notificationWebhook from this file",
		"a JSON configuration replacing the template's, or the output of ferry apps show --json")
	jsonFlag(cmd, &asJSON, "")
	cmd.MarkFlagRequired("name")
	return cmd
}

// fileFlags registers the flags of create and update that name files, each
// with its help: --secret-token-file, --webhook-secret-file and
// --config-file.
func fileFlags(cmd *cobra.Command, in *admininput.AppFlags, secretToken, webhookSecret, config string) {
	f := cmd.Flags()
	f.StringVar(&in.SecretTokenFile, "secret-token-file", "", secretToken)
	f.StringVar(&in.WebhookSecretFile, "webhook-secret-file", "", webhookSecret)
	f.StringVar(&in.ConfigFile, "config-file", "", config)
}

func newAppsUpdateCommand(run appsRun) *cobra.Command {
	var (
		newName, tenantURL, scope, secret string
		in                                admininput.AppFlags
		ifVersion                         int64
		asJSON, plan                      bool
	)
	cmd := &cobra.Command{
		Use:   "update NAME [--name NEW] [--tenant-url URL] [--scope S] [--secret-token-file FILE] [--config-file FILE]",
		Short: "Change an application: only what the flags name changes",
		Long: `Update changes an application's name, SCIM base URL, scope, secret token or
whole configuration; what no flag names stays as it is. A new secret token is
read from --secret-token-file (- for standard input) or --secret-token; the
environment's FERRY_SECRET_TOKEN is not used here, so that an update never
replaces the token by accident. With --if-version, the update applies only
if the application is still at that version (ferry apps show).

--config-file takes a configuration in the admin API's Config format, or
what ferry apps show NAME --json prints: its configuration is taken, and its
other fields (id, name, version, enabled, ...) are ignored. So an
application's configuration is edited with

  ferry apps show RingCentral --json > rc.json
  $EDITOR rc.json
  ferry apps update RingCentral --config-file rc.json

Unknown fields inside the configuration are refused, as the server would.
A change of the configuration schedules a full cycle on it.

--plan saves nothing: it shows what a full cycle on the changed application
would do (as ferry apps plan does), so a change can be checked before it is
made, say that a new scope or scoping filter would not disable everyone:

  ferry apps update RingCentral --config-file rc.json --plan`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			in.Name = changedString(cmd, "name", &newName)
			in.TenantURL = changedString(cmd, "tenant-url", &tenantURL)
			in.Scope = changedString(cmd, "scope", &scope)
			in.SecretToken = changedString(cmd, "secret-token", &secret)
			in.Stdin = cmd.InOrStdin()
			ch, note, err := in.Change(args[0])
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			out := cmd.OutOrStdout()
			if plan {
				if ifVersion != 0 {
					return errors.New("--plan saves nothing, so --if-version does not apply: drop it, or --plan")
				}
				p, raw, err := c.PlanChange(cmd.Context(), args[0], ch)
				if err != nil {
					return err
				}
				return show(cmd, asJSON, raw, func() { adminview.ChangePlan(out, p) })
			}
			app, raw, err := c.UpdateApp(cmd.Context(), args[0], ifVersion, ch)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Updated(out, app) })
		}),
	}
	f := cmd.Flags()
	f.StringVar(&newName, "name", "", "a new name")
	f.StringVar(&tenantURL, "tenant-url", "", "a new SCIM base URL")
	f.StringVar(&scope, "scope", "", "who is provisioned: assigned or all")
	f.StringVar(&secret, "secret-token", "", "a new secret token (prefer --secret-token-file)")
	fileFlags(cmd, &in, "read a new secret token from this file (- for standard input)",
		"read a new notification webhook signing secret from this file",
		"a JSON configuration replacing the current one, or the output of ferry apps show --json")
	f.Int64Var(&ifVersion, "if-version", 0, "update only if the application is at this version")
	f.BoolVar(&plan, "plan", false, "save nothing: show what a full cycle would do with the change")
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsListCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's applications",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
			apps, raw, err := c.Apps(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return adminview.Raw(cmd.OutOrStdout(), raw)
			}
			return adminview.Apps(cmd.OutOrStdout(), apps)
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsShowCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an application and its configuration",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			app, raw, err := c.App(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.App(cmd.OutOrStdout(), app) })
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsDeleteCommand(run appsRun) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an application",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := c.DeleteApp(cmd.Context(), args[0]); err != nil {
				return err
			}
			adminview.Deleted(cmd.OutOrStdout(), args[0])
			return nil
		}),
	}
}

// principalFlags are --user and --group, exactly one of which names who a
// command is about.
type principalFlags struct {
	user, group string
	byID        bool
}

func (p *principalFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.user, "user", "", "a user, by userName")
	cmd.Flags().StringVar(&p.group, "group", "", "a group, by displayName")
	cmd.Flags().BoolVar(&p.byID, "id", false, "--user or --group is an id, not a name")
	cmd.MarkFlagsOneRequired("user", "group")
	cmd.MarkFlagsMutuallyExclusive("user", "group")
}

func (p *principalFlags) principal() provision.Principal {
	pr := provision.Principal{Type: "User"}
	v := p.user
	if p.group != "" {
		pr.Type, v = "Group", p.group
	}
	if p.byID {
		pr.ID = v
	} else {
		pr.Name = v
	}
	return pr
}

func newAppsAssignCommand(run appsRun) *cobra.Command {
	var (
		who    principalFlags
		role   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "assign NAME (--user USERNAME | --group NAME) [--role ROLE]",
		Short: "Assign a user or group to an application",
		Long: `Assign assigns a user, or a group (whose direct members are then in scope),
to an application.

--role gives one of the application's roles, which come from the
application: its template declares them (ringcentral: "User", the default,
and "Default Access", whose users are not provisioned; scim: "User"), and
its configuration's roles change them. ferry apps show NAME lists them; a
role the application does not declare is refused with the list. Without
--role, the assignment gets the application's default role.`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			a, raw, err := c.Assign(cmd.Context(), args[0], who.principal(), role)
			if err != nil {
				return err
			}
			return show(cmd, asJSON, raw, func() { adminview.Assigned(cmd.OutOrStdout(), args[0], a) })
		}),
	}
	who.register(cmd)
	cmd.Flags().StringVar(&role, "role", "", "one of the application's roles (ferry apps show NAME lists them); its default role when not given")
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsUnassignCommand(run appsRun) *cobra.Command {
	var who principalFlags
	cmd := &cobra.Command{
		Use:   "unassign NAME (--user USERNAME | --group NAME)",
		Short: "Unassign a user or group from an application",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			p := who.principal()
			if err := c.Unassign(cmd.Context(), args[0], p); err != nil {
				return err
			}
			adminview.Unassigned(cmd.OutOrStdout(), args[0], p)
			return nil
		}),
	}
	who.register(cmd)
	return cmd
}

func newAppsAssignmentsCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "assignments NAME",
		Short: "List the users and groups assigned to an application",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			as, raw, err := c.Assignments(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return adminview.Raw(cmd.OutOrStdout(), raw)
			}
			return adminview.Assignments(cmd.OutOrStdout(), as)
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsTestConnectionCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test-connection NAME",
		Short: "Test the connection to an application's SCIM endpoint; exit 1 if it fails",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			res, raw, err := c.TestConnection(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := show(cmd, asJSON, raw, func() { adminview.ConnectionWorks(cmd.OutOrStdout(), args[0], res) }); err != nil {
				return err
			}
			return adminview.ConnectionError(args[0], res)
		}),
	}
	jsonFlag(cmd, &asJSON, "")
	return cmd
}

func newAppsProvisionCommand(run appsRun) *cobra.Command {
	var (
		req    provision.OnDemandRequest
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "provision NAME (--user USERNAME | --group NAME [--member USERNAME]...)",
		Short: "Provision one user, or one group with up to five members, now; exit 1 if any fails",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
			if err := admininput.OnDemand(req); err != nil {
				return err
			}
			res, raw, err := c.ProvisionOnDemand(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if err := show(cmd, asJSON, raw, func() { adminview.OnDemand(cmd.OutOrStdout(), res) }); err != nil {
				return err
			}
			return adminview.OnDemandError(res)
		}),
	}
	cmd.Flags().StringVar(&req.User, "user", "", "the user: userName or id")
	cmd.Flags().StringVar(&req.Group, "group", "", "the group: displayName or id")
	cmd.Flags().StringArrayVar(&req.Members, "member", nil, "with --group: a member to provision (userName or id; up to five; the group's first five when none)")
	jsonFlag(cmd, &asJSON, "")
	cmd.MarkFlagsOneRequired("user", "group")
	cmd.MarkFlagsMutuallyExclusive("user", "group")
	cmd.MarkFlagsMutuallyExclusive("user", "member")
	return cmd
}
