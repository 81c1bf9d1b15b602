package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tidbro/tidbro"
)

// adminCmd is one administration subcommand: its flags, the shared database
// flags and, for tenant-scoped commands, --tenant.
type adminCmd struct {
	fs     *flag.FlagSet
	db     dbFlags
	tenant string
}

func newAdminCmd(name string, stderr io.Writer, withTenant bool) *adminCmd {
	c := &adminCmd{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(stderr)
	c.db.register(c.fs)
	if withTenant {
		c.fs.StringVar(&c.tenant, "tenant", tidbro.DefaultTenant, "tenant name")
	}
	return c
}

// run parses args, expects nargs positional arguments (usage otherwise),
// opens the store and the tenant (nil for commands without --tenant), and
// calls fn.
func (c *adminCmd) run(ctx context.Context, args []string, nargs int, usage string,
	fn func(store tidbro.Store, t *tidbro.Tenant, pos []string) error) error {
	pos, err := parse(c.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != nargs {
		return fmt.Errorf("usage: tidbro %s", usage)
	}
	store, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var t *tidbro.Tenant
	if c.tenant != "" {
		t, err = store.Tenant(ctx, c.tenant)
		if tidbro.ErrorCode(err) == tidbro.ENOTFOUND && c.tenant == tidbro.DefaultTenant {
			t, err = store.CreateTenant(ctx, c.tenant)
		}
		if err != nil {
			return fmt.Errorf("tenant %q: %w", c.tenant, err)
		}
	}
	return fn(store, t, pos)
}

func sub(args []string) (string, []string) {
	if len(args) == 0 {
		return "", nil
	}
	return args[0], args[1:]
}

// table writes tab-separated rows aligned in columns.
func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func userCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("user "+op, stderr, true)
	switch op {
	case "add":
		email := c.fs.String("email", "", "e-mail address")
		name := c.fs.String("name", "", "display name")
		tz := c.fs.String("tz", "", "IANA time zone, such as Europe/Stockholm")
		return c.run(ctx, args, 1, "user add USERNAME [--email E] [--name N] [--tz ZONE]", func(store tidbro.Store, t *tidbro.Tenant, pos []string) error {
			u := &tidbro.User{TenantID: t.ID, Username: pos[0], Email: *email, DisplayName: *name, TimeZone: *tz}
			if err := u.Validate(); err != nil {
				return err
			}
			created, err := store.PutUser(ctx, u)
			if err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "added"
			}
			fmt.Fprintf(stdout, "%s user %s\n", verb, u.Username)
			return nil
		})
	case "list":
		return c.run(ctx, args, 0, "user list", func(store tidbro.Store, t *tidbro.Tenant, _ []string) error {
			users, err := store.Users(ctx, t.ID)
			if err != nil {
				return err
			}
			var rows [][]string
			for _, u := range users {
				rows = append(rows, []string{u.Username, u.Email, u.DisplayName, u.TimeZone})
			}
			return table(stdout, "USERNAME\tEMAIL\tNAME\tTIME ZONE", rows)
		})
	}
	return fmt.Errorf("usage: tidbro user add|list")
}

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("token "+op, stderr, true)
	switch op {
	case "create":
		name := c.fs.String("name", "api", "a name to recognise the token by")
		return c.run(ctx, args, 0, "token create [--name N]", func(store tidbro.Store, t *tidbro.Tenant, _ []string) error {
			token, hash := tidbro.NewToken()
			tok, err := store.CreateToken(ctx, t.ID, *name, hash)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "created token %d (%s) for tenant %s; it is shown only now:\n", tok.ID, tok.Name, t.Name)
			fmt.Fprintln(stdout, token)
			return nil
		})
	case "list":
		return c.run(ctx, args, 0, "token list", func(store tidbro.Store, t *tidbro.Tenant, _ []string) error {
			toks, err := store.Tokens(ctx, t.ID)
			if err != nil {
				return err
			}
			var rows [][]string
			for _, k := range toks {
				rows = append(rows, []string{strconv.FormatInt(k.ID, 10), k.Name, k.Created.UTC().Format("2006-01-02 15:04"), strconv.FormatBool(k.Revoked)})
			}
			return table(stdout, "ID\tNAME\tCREATED\tREVOKED", rows)
		})
	case "revoke":
		return c.run(ctx, args, 1, "token revoke ID (see tidbro token list)", func(store tidbro.Store, t *tidbro.Tenant, pos []string) error {
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return fmt.Errorf("usage: tidbro token revoke ID (see tidbro token list)")
			}
			if err := store.RevokeToken(ctx, t.ID, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked token %d\n", id)
			return nil
		})
	}
	return fmt.Errorf("usage: tidbro token create|list|revoke")
}

func tenantCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("tenant "+op, stderr, false)
	switch op {
	case "add":
		return c.run(ctx, args, 1, "tenant add NAME", func(store tidbro.Store, _ *tidbro.Tenant, pos []string) error {
			if err := tidbro.ValidAppID("name", pos[0]); err != nil {
				return err
			}
			t, err := store.CreateTenant(ctx, pos[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "added tenant %s; create its API token with: tidbro token create --tenant %s\n", t.Name, t.Name)
			return nil
		})
	case "list":
		return c.run(ctx, args, 0, "tenant list", func(store tidbro.Store, _ *tidbro.Tenant, _ []string) error {
			ts, err := store.Tenants(ctx)
			if err != nil {
				return err
			}
			for _, t := range ts {
				fmt.Fprintln(stdout, t.Name)
			}
			return nil
		})
	}
	return fmt.Errorf("usage: tidbro tenant add NAME | tenant list")
}

func appPasswordCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("app-password "+op, stderr, true)
	user := func(store tidbro.Store, t *tidbro.Tenant, name string) (*tidbro.User, error) {
		u, err := store.User(ctx, t.ID, name)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", name, err)
		}
		return u, nil
	}
	switch op {
	case "create":
		name := c.fs.String("name", "", "what it is for, such as iPhone")
		return c.run(ctx, args, 1, "app-password create USERNAME [--name N]", func(store tidbro.Store, t *tidbro.Tenant, pos []string) error {
			u, err := user(store, t, pos[0])
			if err != nil {
				return err
			}
			password, hash := tidbro.NewAppPassword()
			ap, err := store.CreateAppPassword(ctx, t.ID, u.ID, *name, hash)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "created app password %d for %s; log in to /dav/ as %s with it. It is shown only now:\n", ap.ID, u.Username, u.Username)
			fmt.Fprintln(stdout, password)
			return nil
		})
	case "list":
		return c.run(ctx, args, 1, "app-password list USERNAME", func(store tidbro.Store, t *tidbro.Tenant, pos []string) error {
			u, err := user(store, t, pos[0])
			if err != nil {
				return err
			}
			aps, err := store.AppPasswords(ctx, t.ID, u.ID)
			if err != nil {
				return err
			}
			var rows [][]string
			for _, a := range aps {
				rows = append(rows, []string{strconv.FormatInt(a.ID, 10), a.Name, a.Created.UTC().Format("2006-01-02 15:04")})
			}
			return table(stdout, "ID\tNAME\tCREATED", rows)
		})
	case "revoke":
		usage := "app-password revoke USERNAME ID (see tidbro app-password list)"
		return c.run(ctx, args, 2, usage, func(store tidbro.Store, t *tidbro.Tenant, pos []string) error {
			u, err := user(store, t, pos[0])
			if err != nil {
				return err
			}
			id, err := strconv.ParseInt(pos[1], 10, 64)
			if err != nil {
				return fmt.Errorf("usage: tidbro %s", usage)
			}
			if err := store.RevokeAppPassword(ctx, t.ID, u.ID, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked app password %d of %s\n", id, u.Username)
			return nil
		})
	}
	return fmt.Errorf("usage: tidbro app-password create|list|revoke")
}
