package sqlite

// Added by Herald's build of FerretDB (see scripts/setup.mjs).

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// heraldMaxIn bounds the values of one pushed-down $in (SQLite allows 32,766 parameters).
const heraldMaxIn = 1000

// heraldWhere returns a WHERE clause selecting a superset of the documents filter matches, using an
// index, or "" when no part of filter can use one. The handler applies the whole filter to what it
// returns, so a superset is always correct; upstream only pushes down a filter that is exactly
// {_id: <string or ObjectId>}, and every other query reads and decodes the whole collection.
//
// Pushed down, in this order:
//   - _id equal to a string or ObjectId, or $in a list of them: the _id index;
//   - a top-level field equal to a string, or $in a list of strings, when the field is the first
//     key of one of the collection's indexes: that index. A field equal to "x" also matches an
//     array that holds "x", so documents whose field is an array are selected too (JSON text of
//     an array sorts between '[' and '\').
//
// A value is compared as the JSON text FerretDB's encoder makes of it, which is also how it is
// stored and what SQLite's -> returns (escapes included), so equal strings compare equal.
func heraldWhere(meta *metadata.Collection, filter *types.Document) (string, []any) {
	if filter == nil {
		return "", nil
	}

	if v, err := filter.Get("_id"); err == nil {
		if values, ok := heraldValues(v, true); ok {
			return " WHERE " + heraldIn(metadata.IDColumn, len(values)), values
		}
	}

	for _, index := range meta.Settings.Indexes {
		field := index.Key[0].Field
		if field == "_id" || strings.ContainsRune(field, '.') || strings.HasPrefix(field, "$") {
			continue
		}

		v, err := filter.Get(field)
		if err != nil {
			continue
		}

		values, ok := heraldValues(v, false)
		if !ok {
			continue
		}

		// The same expression as the index's (see indexesCreate), or SQLite does not use it.
		column := fmt.Sprintf("%s->%q", metadata.DefaultColumn, field)
		clause := fmt.Sprintf(" WHERE (%s OR (%s >= '[' AND %s < '\\'))", heraldIn(column, len(values)), column, column)

		return clause, values
	}

	return "", nil
}

// heraldIn returns "column = ?" or "column IN (?, ...)".
func heraldIn(column string, n int) string {
	if n == 1 {
		return column + " = ?"
	}

	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// heraldValues returns the JSON texts v stands for: one string (or ObjectId when ids is set), or
// the values of {$in: [...]}; ok is false when v is anything else.
func heraldValues(v any, ids bool) ([]any, bool) {
	if d, isDoc := v.(*types.Document); isDoc {
		if d.Len() != 1 {
			return nil, false
		}

		in, err := d.Get("$in")
		if err != nil {
			return nil, false
		}

		arr, isArr := in.(*types.Array)
		if !isArr || arr.Len() == 0 || arr.Len() > heraldMaxIn {
			return nil, false
		}

		values := make([]any, 0, arr.Len())

		for i := 0; i < arr.Len(); i++ {
			value, ok := heraldValue(must.NotFail(arr.Get(i)), ids)
			if !ok {
				return nil, false
			}

			values = append(values, value)
		}

		return values, true
	}

	value, ok := heraldValue(v, ids)
	if !ok {
		return nil, false
	}

	return []any{value}, true
}

func heraldValue(v any, ids bool) (any, bool) {
	switch v.(type) {
	case string:
	case types.ObjectID:
		if !ids {
			return nil, false
		}
	default:
		return nil, false
	}

	return string(must.NotFail(sjson.MarshalSingleValue(v))), true
}
