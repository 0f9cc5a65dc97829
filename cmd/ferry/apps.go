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
	"reflect"
	"slices"
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
		token := strings.TrimRight(string(b), "\r\n")
		if token == "" {
			if file == "-" {
				return "", errors.New("--secret-token-file -: standard input is empty; it should hold the application's secret token")
			}
			return "", fmt.Errorf("--secret-token-file %s is empty; it should hold the application's secret token", file)
		}
		return token, nil
	}
	if cmd.Flags().Changed("secret-token") {
		if value == "" {
			return "", errors.New("--secret-token must not be empty")
		}
		return value, nil
	}
	return os.Getenv("FERRY_SECRET_TOKEN"), nil
}

// readWebhookSecret reads a notification webhook's signing secret from a
// file, without its surrounding white space.
func readWebhookSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--webhook-secret-file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("--webhook-secret-file %s is empty; it should hold the secret that signs the notification webhook's notices", file)
	}
	return s, nil
}

// errNoSecretToken is what creating an application without a secret token
// says.
var errNoSecretToken = errors.New("a secret token is required: the bearer token the application's SCIM endpoint accepts (Entra's \"Secret Token\"); " +
	"give it with --secret-token-file FILE (- reads standard input) or FERRY_SECRET_TOKEN, which keep it out of the process list, or --secret-token")

// checkTenantURL refuses a --tenant-url the server would refuse, naming
// the flag.
func checkTenantURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--tenant-url %q: want the application's SCIM base URL, an http or https URL such as https://platform.ringcentral.com/scim/v2", s)
	}
	if u.User != nil {
		return errors.New("--tenant-url must not carry credentials: give the application's token with --secret-token-file")
	}
	return nil
}

// checkScope refuses a --scope the server would refuse, naming the flag.
func checkScope(scope string) error {
	if scope != provision.ScopeAssigned && scope != provision.ScopeAll {
		return fmt.Errorf("--scope must be %s (the assigned users and groups) or %s (everyone), not %q", provision.ScopeAssigned, provision.ScopeAll, scope)
	}
	return nil
}

func newAppsCreateCommand(run appsRun) *cobra.Command {
	var (
		in         provision.NewApp
		secretFile string
		// webhookFile holds the notification webhook's signing secret.
		webhookFile string
		configFile  string
		asJSON      bool
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, _ []string) error {
			if strings.TrimSpace(in.Name) == "" {
				return errors.New("--name must not be empty")
			}
			secret, err := readSecretToken(cmd, in.SecretToken, secretFile)
			if err != nil {
				return err
			}
			if configFile != "" {
				var from *provision.AppView
				if in.Config, from, err = readConfigFile(configFile); err != nil {
					return err
				}
				if in.Template == "" && from != nil {
					in.Template = from.Template
				}
			}
			if in.Template == "" {
				return errors.New("--template is required: ringcentral, scim, ... (ferry apps templates lists them)")
			}
			if in.TenantURL == "" && (in.Config == nil || in.Config.TenantURL == "") {
				return errors.New("--tenant-url is required: the application's SCIM base URL (Entra's \"Tenant URL\"), such as https://platform.ringcentral.com/scim/v2")
			}
			if in.TenantURL != "" {
				if err := checkTenantURL(in.TenantURL); err != nil {
					return err
				}
			}
			if in.Scope != "" {
				if err := checkScope(in.Scope); err != nil {
					return err
				}
			}
			if secret == "" {
				return errNoSecretToken
			}
			in.SecretToken = secret
			if webhookFile != "" {
				if in.WebhookSecret, err = readWebhookSecret(webhookFile); err != nil {
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
	f.StringVar(&webhookFile, "webhook-secret-file", "", "read the secret that signs the notices sent to the configuration's notificationWebhook from this file")
	f.StringVar(&in.Scope, "scope", "", "who is provisioned: assigned (assigned users and groups) or all; the template's when not given")
	f.StringVar(&configFile, "config-file", "", "a JSON configuration replacing the template's, or the output of ferry apps show --json")
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.MarkFlagRequired("name")
	return cmd
}

func newAppsUpdateCommand(run appsRun) *cobra.Command {
	var (
		newName, tenantURL, scope, secret, secretFile, configFile, webhookFile string
		ifVersion                                                              int64
		asJSON, plan                                                           bool
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
		RunE: run(func(cmd *cobra.Command, c *appsClient, args []string) error {
			var ch provision.AppChange
			f := cmd.Flags()
			if f.Changed("name") {
				if strings.TrimSpace(newName) == "" {
					return errors.New("--name must not be empty")
				}
				ch.Name = &newName
			}
			if f.Changed("tenant-url") {
				if tenantURL == "" {
					return errors.New("--tenant-url must not be empty: give the application's SCIM base URL")
				}
				if err := checkTenantURL(tenantURL); err != nil {
					return err
				}
				ch.TenantURL = &tenantURL
			}
			if f.Changed("scope") {
				if err := checkScope(scope); err != nil {
					return err
				}
				ch.Scope = &scope
			}
			if f.Changed("secret-token") || secretFile != "" {
				token, err := readSecretToken(cmd, secret, secretFile)
				if err != nil {
					return err
				}
				ch.SecretToken = &token
			}
			if webhookFile != "" {
				s, err := readWebhookSecret(webhookFile)
				if err != nil {
					return err
				}
				ch.WebhookSecret = &s
			}
			if configFile != "" {
				cfg, from, err := readConfigFile(configFile)
				if err != nil {
					return err
				}
				if from != nil && from.Name != "" && from.Name != args[0] {
					fmt.Fprintf(cmd.ErrOrStderr(), "Note: %s is the configuration of %s; it is applied to %s.\n", configFile, from.Name, args[0])
				}
				ch.Config = cfg
			}
			if ch == (provision.AppChange{}) {
				return errors.New("nothing to change: give --name, --tenant-url, --scope, --secret-token-file, --webhook-secret-file or --config-file")
			}
			if plan {
				if ifVersion != 0 {
					return errors.New("--plan saves nothing, so --if-version does not apply: drop it, or --plan")
				}
				var p provision.Plan
				raw, err := c.get(cmd.Context(), "POST", appPath(args[0], "plan"), nil, ch, &p)
				if err != nil {
					return err
				}
				if asJSON {
					return writeRaw(cmd.OutOrStdout(), raw)
				}
				writePlan(cmd.OutOrStdout(), &p, true)
				fmt.Fprintf(cmd.OutOrStdout(), "\nNothing was saved: run the same ferry apps update without --plan to save the change.\n")
				return nil
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
	f.StringVar(&webhookFile, "webhook-secret-file", "", "read a new notification webhook signing secret from this file")
	f.StringVar(&configFile, "config-file", "", "a JSON configuration replacing the current one, or the output of ferry apps show --json")
	f.Int64Var(&ifVersion, "if-version", 0, "update only if the application is at this version")
	f.BoolVar(&plan, "plan", false, "save nothing: show what a full cycle would do with the change")
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

// readConfigFile reads a configuration in the admin API's JSON form, or
// the application ferry apps show --json prints (an AppView), whose
// configuration it takes and whose other fields it returns for the caller
// to ignore or use. Unknown fields are refused, as the server would.
func readConfigFile(path string) (*provision.Config, *provision.AppView, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--config-file: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return nil, nil, fmt.Errorf("--config-file %s: want a JSON object, a configuration or the output of ferry apps show --json: %s", path, jsonProblem(err))
	}
	raw, isApp := top["config"]
	var from *provision.AppView
	if isApp {
		known := jsonFields(reflect.TypeFor[provision.AppView]())
		for k := range top {
			if !slices.Contains(known, k) {
				return nil, nil, fmt.Errorf("--config-file %s: unknown field %q: an application (ferry apps show --json) has only %s",
					path, k, strings.Join(known, ", "))
			}
		}
		// The application's other fields, for the caller: only the
		// configuration is sent.
		delete(top, "config")
		rest, _ := json.Marshal(top)
		from = &provision.AppView{}
		if err := json.Unmarshal(rest, from); err != nil {
			return nil, nil, fmt.Errorf("--config-file %s: %s", path, jsonProblem(err))
		}
	} else {
		raw = b
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil, fmt.Errorf("--config-file %s: config is null; want the configuration", path)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var cfg provision.Config
	if err := dec.Decode(&cfg); err != nil {
		where := ""
		if isApp {
			where = "config: "
		}
		return nil, nil, fmt.Errorf("--config-file %s: %s%s", path, where, jsonProblem(err))
	}
	return &cfg, from, nil
}

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// jsonProblem says what a JSON decoding error found, without Go's
// "json: " prefix.
func jsonProblem(err error) string {
	if err == nil {
		return "null"
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && e.Field != "" {
		return fmt.Sprintf("%s must be %s, not %s", e.Field, jsonKind(e.Type.Kind()), e.Value)
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("malformed JSON at byte offset %d: %s", e.Offset, strings.TrimPrefix(e.Error(), "json: "))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
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
		{"Roles", formatRoles(a.Config.Roles)},
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

// formatRoles lists an application's roles, marking the default one and
// those that are not provisioned.
func formatRoles(roles []provision.Role) string {
	var out []string
	for _, r := range roles {
		var marks []string
		if r.Default {
			marks = append(marks, "default")
		}
		if r.NotProvisioned {
			marks = append(marks, "not provisioned")
		}
		if len(marks) > 0 {
			out = append(out, r.Name+" ("+strings.Join(marks, ", ")+")")
		} else {
			out = append(out, r.Name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
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
		Long: `Assign assigns a user, or a group (whose direct members are then in scope),
to an application.

--role gives one of the application's roles, which come from the
application: its template declares them (ringcentral: "User", the default,
and "Default Access", whose users are not provisioned; scim: "User"), and
its configuration's roles change them. ferry apps show NAME lists them; a
role the application does not declare is refused with the list. Without
--role, the assignment gets the application's default role.`,
		Args: cobra.ExactArgs(1),
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
	cmd.Flags().StringVar(&role, "role", "", "one of the application's roles (ferry apps show NAME lists them); its default role when not given")
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
			if len(req.Members) > maxOnDemandMembers {
				return fmt.Errorf("%d --member flags: a provision on demand takes a group and at most %d of its members", len(req.Members), maxOnDemandMembers)
			}
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

// maxOnDemandMembers is how many members of a group a provision on demand
// takes, as in Entra.
const maxOnDemandMembers = 5

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
