package main

import (
	"context"

	"github.com/spf13/cobra"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func (a *app) newTenantsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenants",
		Short: "Create and manage tenants: plans, quotas, permissions and tokens",
		Long: `Create and manage the tenants on whose behalf plugins are called. Only
administrators (the daemon's own user and root) may create and change
tenants. A tenant's token may read its own tenant, usage and tokens.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	a.addTokenFlag(cmd.PersistentFlags())
	cmd.AddCommand(
		a.newTenantsCreateCommand(),
		a.newTenantsListCommand(),
		a.newTenantsGetCommand(),
		a.newTenantsUpgradeCommand(),
		a.newTenantsSetQuotaCommand(),
		a.newTenantsGrantCommand(),
		a.newTenantsRevokeCommand(),
		a.newTenantsDisableCommand(true),
		a.newTenantsDisableCommand(false),
		a.newTenantsUsageCommand(),
		a.newTenantsTokenCommand(),
	)
	return cmd
}

// withClient connects to the daemon, runs call and explains its error.
func (a *app) withClient(call func(c *daemonClient) error) error {
	client, err := a.connect()
	if err != nil {
		return err
	}
	defer client.close()
	if err := call(client); err != nil {
		return client.explain(err, requestInfo{})
	}
	return nil
}

func (a *app) newTenantsCreateCommand() *cobra.Command {
	var plan, format string
	cmd := &cobra.Command{
		Use:     "create NAME --plan PLAN",
		Short:   "Create a tenant on a plan",
		Long:    "Create a tenant on a plan: free, starter, professional or enterprise.",
		Example: "  mockforged tenants create team-a --plan starter",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.CreateTenant(cmd.Context(), &apiv1.CreateTenantRequest{Name: args[0], Plan: plan})
				if err != nil {
					return err
				}
				return a.writeTenantResult(resp.GetTenant(), format)
			})
		}),
	}
	cmd.Flags().StringVar(&plan, "plan", "", "plan of the tenant: free, starter, professional or enterprise")
	_ = cmd.MarkFlagRequired("plan") // fails only for an unknown flag name
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTenantsListCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tenants with their plans and main limits",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.ListTenants(cmd.Context(), &apiv1.ListTenantsRequest{})
				if err != nil {
					return err
				}
				if format == formatJSON {
					view := tenantListView{Tenants: []tenantView{}}
					for _, t := range resp.GetTenants() {
						view.Tenants = append(view.Tenants, newTenantView(t))
					}
					return writeJSON(a.out, view)
				}
				return writeTenantTable(a.out, resp.GetTenants())
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTenantsGetCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a tenant's plan, limits in force, overrides and permissions",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.GetTenant(cmd.Context(), &apiv1.GetTenantRequest{Name: args[0]})
				if err != nil {
					return err
				}
				return a.writeTenantResult(resp.GetTenant(), format)
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTenantsUpgradeCommand() *cobra.Command {
	var plan, format string
	cmd := &cobra.Command{
		Use:   "upgrade NAME --plan PLAN",
		Short: "Move a tenant to another plan, up or down",
		Long: `Move a tenant to another plan, up or down. Quota overrides and granted
permissions are kept. A quota whose usage is now above its limit is listed;
nothing is deleted, but new work of that kind is rejected.`,
		Example: "  mockforged tenants upgrade team-a --plan professional",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.ChangePlan(cmd.Context(), &apiv1.ChangePlanRequest{Name: args[0], Plan: plan})
				if err != nil {
					return err
				}
				return a.writeTenantChange(resp.GetTenant(), resp.GetExceeded(), format)
			})
		}),
	}
	cmd.Flags().StringVar(&plan, "plan", "", "new plan: free, starter, professional or enterprise")
	_ = cmd.MarkFlagRequired("plan") // fails only for an unknown flag name
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTenantsSetQuotaCommand() *cobra.Command {
	var (
		format string
		reset  []string
	)
	cmd := &cobra.Command{
		Use:   "set-quota NAME [--max-concurrent N] [--requests-per-minute N] ...",
		Short: "Override a tenant's quotas",
		Long: `Override some of a tenant's quotas; the others keep following its plan.
Overrides survive plan changes. --reset removes an override so that the
plan's value applies again. A quota whose usage is now above its limit is
listed; nothing is deleted.`,
		Example: `  mockforged tenants set-quota team-a --max-concurrent 2 --requests-per-minute 30
  mockforged tenants set-quota team-a --max-storage 1GiB --max-duration unlimited
  mockforged tenants set-quota team-a --reset max-concurrent`,
		Args: cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			req, err := setQuotaRequest(cmd, args[0], reset)
			if err != nil {
				return err
			}
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.SetQuotas(cmd.Context(), req)
				if err != nil {
					return err
				}
				return a.writeTenantChange(resp.GetTenant(), resp.GetExceeded(), format)
			})
		}),
	}
	for _, f := range quotaFlags {
		cmd.Flags().String(f.flag, "", f.help)
	}
	cmd.Flags().StringSliceVar(&reset, "reset", nil, "quota flags, without dashes, whose override to remove, such as max-concurrent")
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTenantsGrantCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "grant NAME PERMISSION",
		Short: "Grant a tenant a permission beyond its plan",
		Long: `Grant a tenant a permission beyond its plan. Grants survive plan changes.
Custom permissions, whose names are not standard ones, need the enterprise
plan.`,
		Example: "  mockforged tenants grant team-a use_ml_features",
		Args:    cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.GrantPermission(cmd.Context(), &apiv1.GrantPermissionRequest{Name: args[0], Permission: args[1]})
				if err != nil {
					return err
				}
				return a.writeTenantResult(resp.GetTenant(), format)
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newTenantsRevokeCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "revoke NAME PERMISSION",
		Short: "Remove a permission granted beyond a tenant's plan",
		Args:  cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.RevokePermission(cmd.Context(), &apiv1.RevokePermissionRequest{Name: args[0], Permission: args[1]})
				if err != nil {
					return err
				}
				return a.writeTenantResult(resp.GetTenant(), format)
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

// newTenantsDisableCommand returns "tenants disable" when disable is true
// and "tenants enable" otherwise.
func (a *app) newTenantsDisableCommand(disable bool) *cobra.Command {
	use, short := "enable NAME", "Enable a disabled tenant; its usage and tokens are as they were"
	if disable {
		use, short = "disable NAME", "Disable a tenant: every request for it is rejected except reads of its own record"
	}
	var format string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				t, err := setTenantDisabled(cmd.Context(), c, args[0], disable)
				if err != nil {
					return err
				}
				return a.writeTenantResult(t, format)
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func setTenantDisabled(ctx context.Context, c *daemonClient, name string, disable bool) (*apiv1.Tenant, error) {
	if disable {
		resp, err := c.tenants.DisableTenant(ctx, &apiv1.DisableTenantRequest{Name: name})
		return resp.GetTenant(), err
	}
	resp, err := c.tenants.EnableTenant(ctx, &apiv1.EnableTenantRequest{Name: name})
	return resp.GetTenant(), err
}

func (a *app) newTenantsUsageCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "usage NAME",
		Short: "Show a tenant's usage next to its limits",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withClient(func(c *daemonClient) error {
				resp, err := c.tenants.GetUsage(cmd.Context(), &apiv1.GetUsageRequest{Name: args[0]})
				if err != nil {
					return err
				}
				if format == formatJSON {
					return writeJSON(a.out, newUsageView(resp.GetUsage()))
				}
				return writeUsage(a.out, resp.GetUsage())
			})
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

// writeTenantResult prints a tenant after a request.
func (a *app) writeTenantResult(t *apiv1.Tenant, format string) error {
	if format == formatJSON {
		return writeJSON(a.out, newTenantView(t))
	}
	return writeTenant(a.out, t)
}

// writeTenantChange prints a tenant after a change of plan or quotas. In
// text format, the quotas that the change left exceeded go to stderr as
// warnings.
func (a *app) writeTenantChange(t *apiv1.Tenant, exceeded []*apiv1.ExceededQuota, format string) error {
	if format == formatJSON {
		return writeJSON(a.out, tenantChangeView{Tenant: newTenantView(t), Exceeded: newExceededViews(exceeded)})
	}
	if err := writeTenant(a.out, t); err != nil {
		return err
	}
	writeExceeded(a.err, t.GetName(), exceeded)
	return nil
}
