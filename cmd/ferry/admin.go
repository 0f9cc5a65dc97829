package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
)

// adminConnection is the --server and --token flags of the commands that
// call a running server's admin API (ferry apps, ferry import).
type adminConnection struct {
	server, token string
}

// register adds the flags to cmd and its subcommands.
func (a *adminConnection) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&a.server, "server", envOr("FERRY_SERVER", "http://127.0.0.1:8080"), "the Ferry server's URL (env FERRY_SERVER)")
	// The token's default is read when a command runs, not shown by --help.
	cmd.PersistentFlags().StringVar(&a.token, "token", "", "an admin token (env FERRY_TOKEN, which keeps it out of the process list)")
}

// clientRun wraps a command's body with the admin API client it needs.
type clientRun = func(fn func(cmd *cobra.Command, c *adminclient.Client, args []string) error) func(*cobra.Command, []string) error

// run is the clientRun of the flags' client.
func (a *adminConnection) run(fn func(cmd *cobra.Command, c *adminclient.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		return fn(cmd, c, args)
	}
}

// client returns the admin API client the flags describe.
func (a *adminConnection) client() (*adminclient.Client, error) {
	if a.token == "" {
		a.token = os.Getenv("FERRY_TOKEN")
	}
	if a.token == "" {
		return nil, errors.New("an admin token is required: --token or FERRY_TOKEN (create one with: ferry tokens create --scope admin)")
	}
	// No overall timeout: an import's progress may stream for minutes,
	// and the server bounds every request itself. An answer must begin
	// within two minutes.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = 2 * time.Minute
	c, err := adminclient.New(a.server, a.token, &http.Client{Transport: transport})
	if err != nil {
		return nil, fmt.Errorf("--server %q: %w", a.server, err)
	}
	return c, nil
}
