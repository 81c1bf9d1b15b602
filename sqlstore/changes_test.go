package sqlstore

import (
	"strings"
	"testing"

	"github.com/tidbro/tidbro"
)

// A user's changes are read from the (user, kind, seq) index, so that a
// DAV client's sync-collection or a run's app side costs its own user's
// changes, not the whole tenant's since its token (found by the
// benchmark: idle users' runs slowed tenfold beside one user with 100,000
// items).
func TestOwnerChangesUseTheUserIndex(t *testing.T) {
	s, _ := openSQLite(t)
	for _, q := range []tidbro.ChangeQuery{
		{TenantID: 1, OwnerID: 2, Kinds: []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob}},
		{TenantID: 1, OwnerID: 2, Kind: tidbro.KindContact, Since: 5},
		{TenantID: 1, OwnerID: 2},
	} {
		query, args, err := changesQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		if !strings.Contains(all, "USING INDEX changes_user (tenant_id=? AND user_id=? AND kind=? AND seq>?)") || strings.Contains(all, "autoindex_changes") {
			t.Errorf("%+v is read by:\n%s", q, all)
		}
	}
}
