package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/provision"
)

// appsClient calls a Ferry server's admin API (/api/v1).
type appsClient struct {
	base  string // the server's root URL, without a trailing slash
	token string
	http  *http.Client
}

// apiError is an error answer of the admin API; it reads as its detail.
type apiError struct {
	Status int
	Detail string
}

func (e *apiError) Error() string { return e.Detail }

// call sends a request to path (below /api/v1) with in, if not nil, as its
// JSON body, and headers (name, value pairs). It returns the raw body of a
// 2xx answer, and an *apiError with the server's detail otherwise.
func (c *appsClient) call(ctx context.Context, method, path string, query url.Values, in any, headers ...string) ([]byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	u := c.base + "/api/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL holds no secret; the error names it and what failed.
		return nil, fmt.Errorf("cannot reach Ferry: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	var e struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Detail != "" {
		return nil, &apiError{Status: resp.StatusCode, Detail: e.Detail}
	}
	snippet := strings.TrimSpace(string(raw))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	return nil, &apiError{Status: resp.StatusCode, Detail: fmt.Sprintf("%s %s answered %s: %s (is %s a Ferry server?)", method, path, resp.Status, snippet, c.base)}
}

// get calls the API and decodes its answer into out; it returns the raw
// answer too, which --json prints as it is.
func (c *appsClient) get(ctx context.Context, method, path string, query url.Values, in, out any, headers ...string) ([]byte, error) {
	raw, err := c.call(ctx, method, path, query, in, headers...)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("%s %s: the answer is not what this ferry understands: %w", method, path, err)
		}
	}
	return raw, nil
}

// appPath is the admin API path of an application, below /api/v1.
func appPath(name string, rest ...string) string {
	p := "/apps/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// writeRaw prints an API answer exactly as the server sent it.
func writeRaw(w io.Writer, raw []byte) error {
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		_, err := w.Write([]byte{'\n'})
		return err
	}
	return nil
}

func newAppsCommand() *cobra.Command {
	var server, token string
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Configure applications and their provisioning, through a server's admin API",
		Long: `Apps configures the applications a tenant provisions into, who is assigned
to them, and their provisioning jobs, by calling a running Ferry server's
admin API (/api/v1). It needs an admin token of the tenant:

  ferry tokens create --scope admin

Pass it with --token or, to keep it out of the process list, FERRY_TOKEN.`,
	}
	cmd.PersistentFlags().StringVar(&server, "server", envOr("FERRY_SERVER", "http://127.0.0.1:8080"), "the Ferry server's URL (env FERRY_SERVER)")
	// The token's default is read when a command runs, not shown by --help.
	cmd.PersistentFlags().StringVar(&token, "token", "", "an admin token (env FERRY_TOKEN, which keeps it out of the process list)")

	client := func() (*appsClient, error) {
		if token == "" {
			token = os.Getenv("FERRY_TOKEN")
		}
		if token == "" {
			return nil, errors.New("an admin token is required: --token or FERRY_TOKEN (create one with: ferry tokens create --scope admin)")
		}
		u, err := url.Parse(server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--server %q: want the server's URL, such as http://127.0.0.1:8080", server)
		}
		return &appsClient{base: strings.TrimSuffix(server, "/"), token: token, http: &http.Client{Timeout: 2 * time.Minute}}, nil
	}
	// run wraps a command's body with the client it needs.
	run := func(fn func(cmd *cobra.Command, c *appsClient, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			return fn(cmd, c, args)
		}
	}

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
		newAppsJobCommand(run, "start", "Turn provisioning On", "Provisioning of %s is On.\n"),
		newAppsJobCommand(run, "stop", "Turn provisioning Off", "Provisioning of %s is Off.\n"),
		newAppsJobCommand(run, "restart", "Restart provisioning: the next cycle is a full one", "Provisioning of %s restarted; the next cycle is a full one.\n"),
		newAppsStatusCommand(run),
		newAppsLogsCommand(run),
		newAppsProvisionCommand(run),
	)
	return cmd
}

// appsRun gives a command body the admin API client.
type appsRun func(fn func(cmd *cobra.Command, c *appsClient, args []string) error) func(*cobra.Command, []string) error

func newAppsTemplatesCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the application templates",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *appsClient, _ []string) error {
			var names []string
			raw, err := c.get(cmd.Context(), "GET", "/templates", nil, nil, &names)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			for _, n := range names {
				fmt.Fprintln(cmd.OutOrStdout(), n)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// readSecretToken returns the application's secret token from
// --secret-token-file ("-" is standard input), --secret-token or
// FERRY_SECRET_TOKEN, in that order; at most one of the flags.
func readSecretToken(cmd *cobra.Command, value, file string) (string, error) {
	if cmd.Flags().Changed("secret-token") && file != "" {
		return "", errors.New("give the secret token once: --secret-token or --secret-token-file")
	}
	if file != "" {
		var b []byte
		var err error
		if file == "-" {
			b, err = io.ReadAll(cmd.InOrStdin())
		} else {
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return "", fmt.Errorf("--secret-token-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if cmd.Flags().Changed("secret-token") {
		return value, nil
	}
	return os.Getenv("FERRY_SECRET_TOKEN"), nil
}

func newAppsCreateCommand(run appsRun) *cobra.Command {
	var (
		in         provision.NewApp
		secretFile string
		configFile string
		asJSON     bool
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

--config-file replaces the template's configuration with a JSON file in the
admin API's Config format (see api/openapi.json).`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *appsClient, _ []string) error {
			secret, err := readSecretToken(cmd, in.SecretToken, secretFile)
			if err != nil {
				return err
			}
			in.SecretToken = secret
			if configFile != "" {
				if in.Config, err = readConfigFile(configFile); err != nil {
					return err
				}
			}
			var app provision.AppView
			raw, err := c.get(cmd.Context(), "POST", "/apps", nil, in, &app)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %s from template %s (scope %s). Provisioning is Off: check it with\n  ferry apps test-connection %s\nthen turn it On with\n  ferry apps start %s\n",
				app.Name, app.Template, app.Config.Scope, shellWord(app.Name), shellWord(app.Name))
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "the application's name, unique in the tenant")
	f.StringVar(&in.Template, "template", "", "the template to start from: ringcentral, scim, ... (ferry apps templates)")
	f.StringVar(&in.TenantURL, "tenant-url", "", "the application's SCIM base URL, e.g. https://platform.ringcentral.com/scim/v2")
	f.StringVar(&in.SecretToken, "secret-token", "", "the bearer token Ferry sends the application (prefer FERRY_SECRET_TOKEN or --secret-token-file)")
	f.StringVar(&secretFile, "secret-token-file", "", "read the secret token from this file (- for standard input)")
	f.StringVar(&in.Scope, "scope", "", "who is provisioned: assigned (assigned users and groups) or all; the template's when not given")
	f.StringVar(&configFile, "config-file", "", "a JSON configuration replacing the template's")
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("template")
	return cmd
}

func newAppsUpdateCommand(run appsRun) *cobra.Command {
	var (
		newName, tenantURL, scope, secret, secretFile, configFile string
		ifVersion                                                 int64
		asJSON                                                    bool
	)
	cmd := &cobra.Command{
		Use:   "update NAME [--name NEW] [--tenant-url URL] [--scope S] [--secret-token-file FILE] [--config-file FILE]",
		Short: "Change an application: only what the flags name changes",
		Long: `Update changes an application's name, SCIM base URL, scope, secret token or
whole configuration; what no flag names stays as it is. A new secret token is
read from --secret-token-file (- for standard input) or --secret-token; the
environment's FERRY_SECRET_TOKEN is not used here, so that an update never
replaces the token by accident. With --if-version, the update applies only
if the application is still at that version (ferry apps show).`,
		Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var ch provision.AppChange
			f := cmd.Flags()
			if f.Changed("name") {
				ch.Name = &newName
			}
			if f.Changed("tenant-url") {
				ch.TenantURL = &tenantURL
			}
			if f.Changed("scope") {
				ch.Scope = &scope
			}
			if f.Changed("secret-token") || secretFile != "" {
				token, err := readSecretToken(cmd, secret, secretFile)
				if err != nil {
					return err
				}
				ch.SecretToken = &token
			}
			if configFile != "" {
				cfg, err := readConfigFile(configFile)
				if err != nil {
					return err
				}
				ch.Config = cfg
			}
			if ch == (provision.AppChange{}) {
				return errors.New("nothing to change: give --name, --tenant-url, --scope, --secret-token-file or --config-file")
			}
			var app provision.AppView
			raw, err := c.get(cmd.Context(), "PATCH", appPath(args[0]), nil, ch, &app, ifMatch(ifVersion)...)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Updated %s (now version %d).\n", app.Name, app.Version)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&newName, "name", "", "a new name")
	f.StringVar(&tenantURL, "tenant-url", "", "a new SCIM base URL")
	f.StringVar(&scope, "scope", "", "who is provisioned: assigned or all")
	f.StringVar(&secret, "secret-token", "", "a new secret token (prefer --secret-token-file)")
	f.StringVar(&secretFile, "secret-token-file", "", "read a new secret token from this file (- for standard input)")
	f.StringVar(&configFile, "config-file", "", "a JSON configuration replacing the current one")
	f.Int64Var(&ifVersion, "if-version", 0, "update only if the application is at this version")
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// ifMatch is the header that makes an update conditional on a version;
// none for 0.
func ifMatch(version int64) []string {
	if version == 0 {
		return nil
	}
	return []string{"If-Match", `"` + strconv.FormatInt(version, 10) + `"`}
}

// readConfigFile reads a configuration in the admin API's JSON form,
// refusing unknown fields as the server would.
func readConfigFile(path string) (*provision.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config-file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg provision.Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("--config-file %s: %w", path, err)
	}
	return &cfg, nil
}

// onOff names a provisioning status as Entra does.
func onOff(enabled bool) string {
	if enabled {
		return "On"
	}
	return "Off"
}

func newAppsListCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's applications",
		Args:  cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *appsClient, _ []string) error {
			var apps []provision.AppView
			raw, err := c.get(cmd.Context(), "GET", "/apps", nil, nil, &apps)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTEMPLATE\tPROVISIONING\tSCOPE\tTENANT URL")
			for _, a := range apps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Template, onOff(a.Enabled), a.Config.Scope, a.Config.TenantURL)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func newAppsShowCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an application and its configuration",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var app provision.AppView
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0]), nil, nil, &app)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			writeApp(cmd.OutOrStdout(), &app)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func writeApp(w io.Writer, a *provision.AppView) {
	secret := "not set"
	if a.HasSecretToken {
		secret = "set"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"Name", a.Name},
		{"ID", a.ID},
		{"Template", a.Template},
		{"Provisioning", onOff(a.Enabled)},
		{"Tenant URL", a.Config.TenantURL},
		{"Secret token", secret},
		{"Scope", a.Config.Scope},
		{"Version", strconv.FormatInt(a.Version, 10)},
		{"Created", formatTime(a.Created)},
		{"Last modified", formatTime(a.LastModified)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	tw.Flush()
	if len(a.Config.Objects) > 0 {
		fmt.Fprintln(w, "Mappings:")
	}
	for _, o := range a.Config.Objects {
		var actions []string
		for _, act := range []struct {
			on   bool
			name string
		}{{o.Actions.Create, "create"}, {o.Actions.Update, "update"}, {o.Actions.Delete, "delete"}} {
			if act.on {
				actions = append(actions, act.name)
			}
		}
		state := ""
		if !o.Enabled {
			state = " (off)"
		}
		fmt.Fprintf(w, "  %s → %s%s: %s; %s, %s\n", o.SourceType, o.TargetType, state, orNone(strings.Join(actions, ", ")),
			plural(len(o.Attributes), "attribute"), plural(len(o.Scoping), "scoping filter"))
	}
}

func newAppsDeleteCommand(run appsRun) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an application",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			if _, err := c.call(cmd.Context(), "DELETE", appPath(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s.\n", args[0])
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
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			p := who.principal()
			var a provision.AssignmentView
			raw, err := c.get(cmd.Context(), "POST", appPath(args[0], "assignments"), nil, map[string]any{"principal": p, "role": role}, &a)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			withRole := ""
			if a.Role != "" {
				withRole = " with role " + a.Role
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Assigned %s %s to %s%s.\n", a.PrincipalType, a.PrincipalName, args[0], withRole)
			return nil
		}),
	}
	who.register(cmd)
	cmd.Flags().StringVar(&role, "role", "", "the app role to assign, if the application has roles")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func newAppsUnassignCommand(run appsRun) *cobra.Command {
	var who principalFlags
	cmd := &cobra.Command{
		Use:   "unassign NAME (--user USERNAME | --group NAME)",
		Short: "Unassign a user or group from an application",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			p := who.principal()
			v, q := p.Name, url.Values(nil)
			if who.byID {
				v, q = p.ID, url.Values{"by": {"id"}}
			}
			if _, err := c.call(cmd.Context(), "DELETE", appPath(args[0], "assignments", p.Type, url.PathEscape(v)), q, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Unassigned %s %s from %s.\n", p.Type, v, args[0])
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var as []provision.AssignmentView
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0], "assignments"), nil, nil, &as)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tNAME\tROLE\tID\tASSIGNED")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.PrincipalType, a.PrincipalName, orDash(a.Role), a.PrincipalID, formatTime(a.Created))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func newAppsTestConnectionCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test-connection NAME",
		Short: "Test the connection to an application's SCIM endpoint; exit 1 if it fails",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var res provision.TestResult
			raw, err := c.get(cmd.Context(), "POST", appPath(args[0], "test-connection"), nil, nil, &res)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeRaw(cmd.OutOrStdout(), raw); err != nil {
					return err
				}
			} else if res.Success {
				fmt.Fprintf(cmd.OutOrStdout(), "The connection to %s works.\n", args[0])
			}
			if !res.Success {
				code := ""
				if res.Code != "" {
					code = " (" + res.Code + ")"
				}
				return fmt.Errorf("test connection to %s failed%s: %s", args[0], code, res.Message)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func newAppsJobCommand(run appsRun, action, short, done string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			if _, err := c.call(cmd.Context(), "POST", appPath(args[0], action), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), done, args[0])
			return nil
		}),
	}
}

func newAppsStatusCommand(run appsRun) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show an application's provisioning status and progress",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var st provision.Status
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0], "status"), nil, nil, &st)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			writeStatus(cmd.OutOrStdout(), &st)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func writeStatus(w io.Writer, st *provision.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "App:\t%s\n", st.App)
	fmt.Fprintf(tw, "Provisioning:\t%s (%s)\n", onOff(st.Enabled), st.State)
	if cy := st.Current; cy != nil {
		fmt.Fprintf(tw, "Current cycle:\t%s, started %s: %d of %d processed; %s\n", cy.Kind, formatTime(cy.Started), cy.Processed, cy.InScope, formatCounts(cy.Counts))
	}
	if cy := st.Last; cy != nil {
		outcome := formatCounts(cy.Counts)
		if cy.Error != "" {
			outcome += "; stopped: " + cy.Error
		}
		fmt.Fprintf(tw, "Last cycle:\t%s, ended %s after %s: %s\n", cy.Kind, formatTime(cy.Ended), time.Duration(cy.DurationMs)*time.Millisecond, outcome)
	}
	next := "at " + formatTime(st.NextFullCycle)
	if st.FullCyclePending {
		next = "pending"
	} else if st.NextFullCycle.IsZero() {
		next = "-"
	}
	fmt.Fprintf(tw, "Next full cycle:\t%s\n", next)
	fmt.Fprintf(tw, "Watermark:\t%d\n", st.Watermark)
	fmt.Fprintf(tw, "Totals:\t%s\n", formatCounts(st.Totals))
	tw.Flush()
}

func formatCounts(c provision.Counts) string {
	var parts []string
	for _, n := range []struct {
		n    int
		name string
	}{{c.Created, "created"}, {c.Updated, "updated"}, {c.Disabled, "disabled"}, {c.Deleted, "deleted"},
		{c.Unchanged, "unchanged"}, {c.Skipped, "skipped"}, {c.Failed, "failed"}} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.n, n.name))
		}
	}
	if len(parts) == 0 {
		return "nothing done"
	}
	return strings.Join(parts, ", ")
}

func newAppsLogsCommand(run appsRun) *cobra.Command {
	var (
		f      provision.LogFilter
		since  string
		until  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Show an application's provisioning logs, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"user": f.User, "action": f.Action, "status": f.Status, "since": since, "until": until, "before": f.Before} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if f.Limit != 0 {
				q.Set("limit", strconv.Itoa(f.Limit))
			}
			var logs []provision.LogRecord
			raw, err := c.get(cmd.Context(), "GET", appPath(args[0], "logs"), q, nil, &logs)
			if err != nil {
				return err
			}
			if asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			writeLogs(cmd.OutOrStdout(), logs)
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.User, "user", "", "only this source object: userName, displayName or id")
	fl.StringVar(&f.Action, "action", "", "only this action: create, update, disable, delete or other")
	fl.StringVar(&f.Status, "status", "", "only this status: success, failure, skipped or warning")
	fl.StringVar(&since, "since", "", "only records at or after this RFC 3339 time")
	fl.StringVar(&until, "until", "", "only records before this RFC 3339 time")
	fl.StringVar(&f.Before, "before", "", "continue a listing after the record with this id")
	fl.IntVar(&f.Limit, "limit", 0, "the most records to show (the server's default when 0)")
	fl.BoolVar(&asJSON, "json", false, "print the API's JSON array")
	return cmd
}

func writeLogs(w io.Writer, logs []provision.LogRecord) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTION\tSTATUS\tSOURCE\tTARGET\tDETAIL")
	for _, l := range logs {
		detail := ""
		if l.Error != nil {
			detail = l.Error.Code + ": " + l.Error.Reason
		} else if len(l.ModifiedProperties) > 0 {
			var names []string
			for _, p := range l.ModifiedProperties {
				names = append(names, p.Name)
			}
			detail = "set " + strings.Join(names, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", formatTime(l.ActivityDateTime), l.Action, l.Status,
			identity(l.Source), identity(l.Target), oneLine(detail))
	}
	tw.Flush()
}

func identity(id provision.Identity) string {
	switch {
	case id.DisplayName != "":
		return id.DisplayName
	case id.ID != "":
		return id.ID
	}
	return "-"
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var res provision.OnDemandResult
			raw, err := c.get(cmd.Context(), "POST", appPath(args[0], "provision"), nil, req, &res)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = writeRaw(out, raw)
			} else {
				for _, s := range res.Steps {
					fmt.Fprintf(out, "%-8s %s: %s\n", s.Status, s.Name, oneLine(s.Description))
				}
				if len(res.Records) > 0 {
					fmt.Fprintln(out)
					writeLogs(out, res.Records)
				}
			}
			if err != nil {
				return err
			}
			for _, r := range res.Records {
				if r.Status == provision.StatusFailure {
					reason := ""
					if r.Error != nil {
						reason = ": " + r.Error.Code + ": " + r.Error.Reason
					}
					return fmt.Errorf("provisioning %s failed%s", identity(r.Source), reason)
				}
			}
			for _, s := range res.Steps {
				if s.Status == provision.StatusFailure {
					return fmt.Errorf("provisioning failed at %s: %s", s.Name, s.Description)
				}
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&req.User, "user", "", "the user: userName or id")
	cmd.Flags().StringVar(&req.Group, "group", "", "the group: displayName or id")
	cmd.Flags().StringArrayVar(&req.Members, "member", nil, "with --group: a member to provision (userName or id; up to five; the group's first five when none)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.MarkFlagsOneRequired("user", "group")
	cmd.MarkFlagsMutuallyExclusive("user", "group")
	cmd.MarkFlagsMutuallyExclusive("user", "member")
	return cmd
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "no actions"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shellWord quotes s for a command line, when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.@/:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
