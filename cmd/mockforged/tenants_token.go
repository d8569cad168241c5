package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func (a *app) newTenantsTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke a tenant's tokens",
		Long: `Create, list and revoke a tenant's tokens. A user who is not an
administrator passes a token with --token or MOCKFORGE_TOKEN and can then act
only as that token's tenant. The users quota limits how many tokens a tenant
holds.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		a.newTokenCreateCommand(),
		a.newTokenListCommand(),
		a.newTokenRevokeCommand(),
	)
	return cmd
}

// tokenCreatedView is the JSON document of "tenants token create". It is
// the only output that ever contains the token.
type tokenCreatedView struct {
	Token string    `json:"token"`
	Info  tokenView `json:"info"`
}

func (a *app) newTokenCreateCommand() *cobra.Command {
	var description, format string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a token for a tenant and print it once",
		Long: `Create a token for a tenant and print it. The daemon stores only a hash
of the token, so it cannot be shown again: store it in a secret manager at
once.`,
		Example: `  mockforged tenants token create team-a --description "CI pipeline"`,
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.CreateToken(cmd.Context(), &apiv1.CreateTokenRequest{Name: args[0], Description: description})
				if err != nil {
					return err
				}
				if format == formatJSON {
					return writeJSON(a.out, tokenCreatedView{Token: resp.GetToken(), Info: newTokenView(resp.GetInfo())})
				}
				fmt.Fprintln(a.out, resp.GetToken())
				fmt.Fprintf(a.err, "Created token %s for tenant %q. Store it now: it is shown only once and cannot be recovered. Pass it with --token or %s.\n",
					resp.GetInfo().GetId(), args[0], envToken)
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&description, "description", "", "note on who or what uses the token")
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTokenListCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list NAME",
		Short: "List a tenant's tokens by id; the tokens themselves are never shown",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.ListTokens(cmd.Context(), &apiv1.ListTokensRequest{Name: args[0]})
				if err != nil {
					return err
				}
				views := []tokenView{}
				for _, info := range resp.GetTokens() {
					views = append(views, newTokenView(info))
				}
				if format == formatJSON {
					return writeJSON(a.out, struct {
						Tokens []tokenView `json:"tokens"`
					}{views})
				}
				table := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(table, "ID\tCREATED\tDESCRIPTION")
				for _, v := range views {
					fmt.Fprintf(table, "%s\t%s\t%s\n", v.ID, orDash(v.CreatedAt), orDash(v.Description))
				}
				if err := table.Flush(); err != nil {
					return fmt.Errorf("write token table: %w", err)
				}
				return nil
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTokenRevokeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke NAME ID",
		Short: "Revoke a tenant's token by id; it stops working at once",
		Args:  cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				if _, err := c.tenants.RevokeToken(cmd.Context(), &apiv1.RevokeTokenRequest{Name: args[0], TokenId: args[1]}); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "Revoked token %s of tenant %q.\n", args[1], args[0])
				return nil
			})
		}),
	}
	return cmd
}
