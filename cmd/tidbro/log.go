package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/tidbro/tidbro"
)

// logCmd prints a user's sync log, newest first: what each run did and the
// policy rule that decided it.
func logCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newAdminCmd("log", stderr, true)
	limit := c.fs.Int("limit", 50, "how many entries")
	return c.run(ctx, args, 1, "log USERNAME [--limit N]", func(store tidbro.Store, t *tidbro.Tenant, pos []string) error {
		u, err := store.User(ctx, t.ID, pos[0])
		if err != nil {
			return fmt.Errorf("user %q: %w", pos[0], err)
		}
		n := min(max(*limit, 1), tidbro.MaxPageSize)
		es, err := store.AuditLog(ctx, t.ID, u.ID, 0, n)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, e := range es {
			item := e.AppID
			if item == "" {
				item = e.RemoteID
			}
			outcome := e.Rule
			if e.Error != "" {
				outcome = "ERROR " + e.Error + " (" + e.Rule + ")"
			}
			rows = append(rows, []string{e.At.UTC().Format("2006-01-02 15:04:05"), strconv.FormatInt(e.RunID, 10), e.Action, string(e.Kind), item, outcome})
		}
		return table(stdout, "TIME\tRUN\tACTION\tKIND\tITEM\tRULE", rows)
	})
}
