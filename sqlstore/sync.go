package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// maxIn bounds the values of one IN list: batch lookups of any size run in
// chunks of it, well below both databases' limits on parameters.
const maxIn = 500

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(...any) error }

// collect reads every row of a query with scan and closes the rows. It
// takes the query's error too: rows, err := s.query(...); collect(rows, err, scanX).
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// chunks yields vs in slices of at most maxIn values, as query arguments,
// each padded with its last value to one of a few lengths (inLengths): an
// IN list of one of those lengths has a statement text of its own, which
// is prepared once (queryFixed) rather than for every lookup.
func chunks[T any](vs []T) iter.Seq[[]any] {
	return func(yield func([]any) bool) {
		for c := range slices.Chunk(vs, maxIn) {
			n := inLength(len(c))
			args := make([]any, n)
			for i := range n {
				args[i] = c[min(i, len(c)-1)]
			}
			if !yield(args) {
				return
			}
		}
	}
}

// inLengths are the lengths chunks pads an IN list to: a few statements,
// none with more than four times the values it needs.
var inLengths = [...]int{1, 4, 16, 64, 256, maxIn}

func inLength(n int) int {
	for _, l := range inLengths {
		if n <= l {
			return l
		}
	}
	return n
}

// placeholders returns n comma-separated placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// uniqueSorted returns the distinct values of vs in order, leaving vs alone.
func uniqueSorted[T cmp.Ordered](vs []T) []T {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}

// optMicros stores an optional time: the zero time as 0.
func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// fromOptMicros reads what optMicros stored.
func fromOptMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// violation tells a unique or foreign key violation from other errors, by
// the drivers' codes: SQLSTATE 23505 and 23503 from pgx, the extended
// result codes SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY and _FOREIGNKEY from
// modernc.org/sqlite. The interfaces keep the drivers out of this package.
func violation(err error) (unique, foreignKey bool) {
	if err == nil {
		return false, false
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		code := pg.SQLState()
		return code == "23505", code == "23503"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		code := lite.Code()
		return code == 2067 || code == 1555, code == 787
	}
	return false, false
}

// validPairKind accepts the kinds a pair's collection can have.
func validPairKind(k tidbro.Kind) error {
	switch k {
	case tidbro.KindEvent, tidbro.KindTask, tidbro.KindContact:
		return nil
	}
	return tidbro.Invalid("kind", "%q is not a collection kind (event, task, contact)", k)
}
