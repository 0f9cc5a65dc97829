package main

import (
	"github.com/spf13/cobra"

	"github.com/ferryid/ferry/internal/adminclient"
	"github.com/ferryid/ferry/internal/admininput"
	"github.com/ferryid/ferry/internal/adminview"
	"github.com/ferryid/ferry/internal/events"
	"github.com/ferryid/ferry/internal/webhooks"
)

func newWebhooksCommand() *cobra.Command {
	return directoryCommand("webhooks", "Send the directory's events to URLs as signed webhooks", webhooksHelp, func(run clientRun) []*cobra.Command {
		var url, types string
		create := &cobra.Command{
			Use:   "create",
			Short: "Subscribe a URL to the directory's events; its signing secret is printed once, on the last line of standard output",
			Args:  cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				v, _, err := c.CreateWebhook(cmd.Context(), webhooks.NewWebhook{URL: url, Events: events.ParseTypes(types)})
				if err != nil {
					return err
				}
				adminview.WebhookCreated(cmd.ErrOrStderr(), cmd.OutOrStdout(), v)
				return nil
			}),
		}
		create.Flags().StringVar(&url, "url", "", "where to POST the events: an http or https URL")
		create.Flags().StringVar(&types, "events", "", "comma-separated event types, or user.* and group.*; every event when empty")
		create.MarkFlagRequired("url")

		var listJSON bool
		list := &cobra.Command{Use: "list", Short: "List the webhooks and where their deliveries stand", Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, _ []string) error {
				hooks, raw, err := c.Webhooks(cmd.Context())
				if err != nil {
					return err
				}
				if listJSON {
					return adminview.Raw(cmd.OutOrStdout(), raw)
				}
				return adminview.Webhooks(cmd.OutOrStdout(), hooks)
			}),
		}
		list.Flags().BoolVar(&listJSON, "json", false, "print the API's JSON answer")

		del := &cobra.Command{Use: "delete ID", Short: "Delete a webhook and its delivery log", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				if err := c.DeleteWebhook(cmd.Context(), args[0]); err != nil {
					return err
				}
				adminview.WebhookDeleted(cmd.OutOrStdout(), args[0])
				return nil
			}),
		}

		test := &cobra.Command{Use: "test ID", Short: "Send a signed ping event to a webhook now and say what it answered", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				res, _, err := c.TestWebhook(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return adminview.WebhookTested(cmd.OutOrStdout(), args[0], res)
			}),
		}

		var limit int
		var logJSON bool
		deliveries := &cobra.Command{Use: "deliveries ID", Short: "Show a webhook's delivery log, newest first", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *adminclient.Client, args []string) error {
				if err := admininput.Limit(limit, "deliveries"); err != nil {
					return err
				}
				log, raw, err := c.WebhookDeliveries(cmd.Context(), args[0], limit)
				if err != nil {
					return err
				}
				if logJSON {
					return adminview.Raw(cmd.OutOrStdout(), raw)
				}
				return adminview.WebhookDeliveries(cmd.OutOrStdout(), log)
			}),
		}
		deliveries.Flags().IntVar(&limit, "limit", 0, "show at most this many (100 when 0, at most 1000)")
		deliveries.Flags().BoolVar(&logJSON, "json", false, "print the API's JSON answer")
		return []*cobra.Command{create, list, del, test, deliveries}
	})
}

// webhooksHelp says what a webhook delivery is.
const webhooksHelp = `

Each event is POSTed as JSON (as ferry events tail --json prints it) with the
headers Ferry-Event-Id (drop duplicates by it), Ferry-Event-Type and
Ferry-Signature: t=UNIX-SECONDS,v1=HEX(HMAC-SHA256(secret, t + "." + body)).
Deliveries are at least once and in order; an event not answered 2xx is
retried with backoff (30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h) while
the events after it wait, and given up on three days after its first failure.
ferry serve delivers them (not with --no-engine), through --egress-allow.`
