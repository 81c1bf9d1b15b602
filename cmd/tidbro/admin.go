package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/tidbro/tidbro"
)

// adminCmd parses a subcommand's flags and opens the store and tenant.
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

func (c *adminCmd) open(ctx context.Context) (tidbro.Store, *tidbro.Tenant, error) {
	store, err := c.db.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if c.tenant == "" {
		return store, nil, nil
	}
	t, err := store.Tenant(ctx, c.tenant)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND && c.tenant == tidbro.DefaultTenant {
		t, err = store.CreateTenant(ctx, c.tenant)
	}
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("tenant %q: %w", c.tenant, err)
	}
	return store, t, nil
}

func sub(args []string) (string, []string) {
	if len(args) == 0 {
		return "", nil
	}
	return args[0], args[1:]
}

func userCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("user "+op, stderr, true)
	switch op {
	case "add":
		email := c.fs.String("email", "", "e-mail address")
		name := c.fs.String("name", "", "display name")
		tz := c.fs.String("tz", "", "IANA time zone, such as Europe/Stockholm")
		pos, err := parse(c.fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: tidbro user add USERNAME [--email E] [--name N] [--tz ZONE]")
		}
		store, t, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
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
	case "list":
		if _, err := parse(c.fs, args); err != nil {
			return err
		}
		store, t, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		users, err := store.Users(ctx, t.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tEMAIL\tNAME\tTIME ZONE")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Email, u.DisplayName, u.TimeZone)
		}
		return tw.Flush()
	}
	return fmt.Errorf("usage: tidbro user add|list")
}

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("token "+op, stderr, true)
	switch op {
	case "create":
		name := c.fs.String("name", "api", "a name to recognise the token by")
		if _, err := parse(c.fs, args); err != nil {
			return err
		}
		store, t, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		token, hash := tidbro.NewToken()
		tok, err := store.CreateToken(ctx, t.ID, *name, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created token %d (%s) for tenant %s; it is shown only now:\n", tok.ID, tok.Name, t.Name)
		fmt.Fprintln(stdout, token)
		return nil
	case "list":
		if _, err := parse(c.fs, args); err != nil {
			return err
		}
		store, t, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		toks, err := store.Tokens(ctx, t.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
		for _, k := range toks {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\n", k.ID, k.Name, k.Created.UTC().Format("2006-01-02 15:04"), k.Revoked)
		}
		return tw.Flush()
	case "revoke":
		pos, err := parse(c.fs, args)
		if err != nil {
			return err
		}
		var id int64
		if len(pos) == 1 {
			id, err = strconv.ParseInt(pos[0], 10, 64)
		}
		if len(pos) != 1 || err != nil {
			return fmt.Errorf("usage: tidbro token revoke ID (see tidbro token list)")
		}
		store, t, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.RevokeToken(ctx, t.ID, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked token %d\n", id)
		return nil
	}
	return fmt.Errorf("usage: tidbro token create|list|revoke")
}

func tenantCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	op, args := sub(args)
	c := newAdminCmd("tenant "+op, stderr, false)
	pos, err := parse(c.fs, args)
	if err != nil {
		return err
	}
	switch {
	case op == "add" && len(pos) == 1:
		store, _, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := tidbro.ValidAppID("name", pos[0]); err != nil {
			return err
		}
		t, err := store.CreateTenant(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added tenant %s; create its API token with: tidbro token create --tenant %s\n", t.Name, t.Name)
		return nil
	case op == "list":
		store, _, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		ts, err := store.Tenants(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			fmt.Fprintln(stdout, t.Name)
		}
		return nil
	}
	return fmt.Errorf("usage: tidbro tenant add NAME | tenant list")
}
