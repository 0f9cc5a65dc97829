// Command ferry is Ferry's single binary: the SCIM 2.0 service provider
// (`ferry serve`) and its administration commands. This package only wires
// flags to the internal packages; the behaviour lives there.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ferry:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "ferry",
		Short:         "Ferry: automatic user provisioning over SCIM 2.0",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newMigrateCommand(), newTokensCommand(), newAdminsCommand(), newAppsCommand(), newImportCommand(), newUsersCommand(), newGroupsCommand(), newEventsCommand(), newSourcesCommand(), newWebhooksCommand(), newSchemasCommand(), newVersionCommand(), newValidateCommand(), newBenchCommand())
	return root
}

// envOr returns the environment variable name, or def when it is unset, so
// that every flag has an environment equivalent (FERRY_LISTEN, ...).
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
