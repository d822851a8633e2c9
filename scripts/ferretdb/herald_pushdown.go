package sqlite

// Added by Herald's build of FerretDB (see scripts/setup.mjs).

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// heraldMaxIn bounds the values of one pushed-down $in (SQLite allows 32,766 parameters).
const heraldMaxIn = 1000

// heraldField is a top-level field name that can be written into a JSON path as it is.
var heraldField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// heraldWhere returns a WHERE clause selecting a superset of the documents filter matches, or ""
// when no part of filter can be handed to SQLite. The handler applies the whole filter to what it
// returns, so a superset is always correct; upstream only pushes down a filter that is exactly
// {_id: <string or ObjectId>}, and every other query reads and decodes the whole collection.
func heraldWhere(meta *metadata.Collection, filter *types.Document) (string, []any) {
	conds, args, _ := heraldConditions(meta, filter)
	if len(conds) == 0 {
		return "", nil
	}

	return " WHERE " + strings.Join(conds, " AND "), args
}

// heraldConditions translates the top-level conditions of filter it knows, to be ANDed. exact is
// true when together they select exactly the documents filter matches (every condition of filter
// was translated, and each exactly), so that a count needs no document decoded.
//
// Translated:
//   - _id equal to a string or ObjectId, or $in a list of them (exact): the _id index;
//   - a field equal to a string, or $in a list of strings, when the field is the first key of one
//     of the collection's indexes (exact): that index. A field equal to "x" also matches an array
//     that holds "x", as in MongoDB;
//   - a field equal to null (exact): missing, null, or an array that holds null;
//   - a field compared with a number by $gt, $gte, $lt and $lte (a superset: arrays, and values of
//     other types that SQLite orders after numbers, are kept for the handler to decide);
//   - $or of documents each translated in part at least (exact if each is exactly).
//
// A value is compared as the JSON text FerretDB's encoder makes of it, which is also how it is
// stored and what SQLite's -> returns (escapes included), so equal strings compare equal.
func heraldConditions(meta *metadata.Collection, filter *types.Document) (conds []string, args []any, exact bool) {
	if filter == nil || filter.Len() == 0 {
		return nil, nil, false
	}

	indexed := map[string]bool{}
	for _, index := range meta.Settings.Indexes {
		indexed[index.Key[0].Field] = true
	}

	exact = true
	iter := filter.Iterator()
	defer iter.Close()

	for {
		key, v, err := iter.Next()
		if err != nil {
			break
		}

		cond, condArgs, condExact := heraldCondition(meta, indexed, key, v)
		if cond == "" {
			exact = false
			continue
		}

		conds = append(conds, cond)
		args = append(args, condArgs...)
		exact = exact && condExact
	}

	return conds, args, exact && len(conds) > 0
}

// heraldCondition translates one top-level key of a filter, or returns "".
func heraldCondition(meta *metadata.Collection, indexed map[string]bool, key string, v any) (string, []any, bool) {
	if key == "_id" {
		if values, ok := heraldValues(v, true); ok {
			return heraldIn(metadata.IDColumn, len(values)), heraldJSON(values), true
		}

		return "", nil, false
	}

	if key == "$or" {
		return heraldOr(meta, v)
	}

	if !heraldField.MatchString(key) {
		return "", nil, false
	}

	if _, isNull := v.(types.NullType); isNull {
		return heraldNull(key), nil, true
	}

	if indexed[key] {
		if values, ok := heraldValues(v, false); ok {
			return heraldEqual(key, values)
		}
	}

	if d, isDoc := v.(*types.Document); isDoc {
		return heraldRange(key, d)
	}

	return "", nil, false
}

// heraldEqual selects documents whose field is one of values, or an array holding one of them.
func heraldEqual(field string, values []any) (string, []any, bool) {
	// The same expression as the index's (see indexesCreate), or SQLite does not use it. JSON text of
	// an array sorts between '[' and '\'; those rows are checked element by element.
	column := fmt.Sprintf("%s->%q", metadata.DefaultColumn, field)
	cond := fmt.Sprintf(
		"(%s OR (%s >= '[' AND %s < '\\' AND EXISTS (SELECT 1 FROM json_each(%s, '$.%s') WHERE type = 'text' AND %s)))",
		heraldIn(column, len(values)), column, column, metadata.DefaultColumn, field, heraldIn("value", len(values)),
	)

	args := heraldJSON(values)
	for _, value := range values {
		args = append(args, value.(string))
	}

	return cond, args, true
}

// heraldNull selects documents whose field is missing, null, or an array holding null, as {field: null} does.
func heraldNull(field string) string {
	return fmt.Sprintf(
		"(%[1]s->>'$.%[2]s' IS NULL OR (json_type(%[1]s, '$.%[2]s') = 'array' AND EXISTS (SELECT 1 FROM json_each(%[1]s, '$.%[2]s') WHERE type = 'null')))",
		metadata.DefaultColumn, field,
	)
}

// heraldRange selects a superset of the documents whose field compares with the numbers of d, when d
// holds only $gt, $gte, $lt and $lte of numbers: a number in range, or an array (its elements are
// for the handler to check). ->> returns a number as a number and anything else but null as text,
// which SQLite orders after every number, so some non-numbers pass a lower bound; never one that matches.
func heraldRange(field string, d *types.Document) (string, []any, bool) {
	ops := map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
	value := fmt.Sprintf("%s->>'$.%s'", metadata.DefaultColumn, field)

	var parts []string
	var args []any

	for _, op := range d.Keys() {
		sqlOp, ok := ops[op]
		if !ok {
			return "", nil, false
		}

		var arg any
		switch n := must.NotFail(d.Get(op)).(type) {
		case int32:
			arg = int64(n)
		case int64:
			arg = n
		case float64:
			if math.IsNaN(n) {
				return "", nil, false
			}
			arg = n
		default:
			return "", nil, false
		}

		parts = append(parts, fmt.Sprintf("%s %s ?", value, sqlOp))
		args = append(args, arg)
	}

	if len(parts) == 0 {
		return "", nil, false
	}

	cond := fmt.Sprintf("(json_type(%s, '$.%s') = 'array' OR (%s))", metadata.DefaultColumn, field, strings.Join(parts, " AND "))

	return cond, args, false
}

// heraldOr translates {$or: [...]} when every branch is translated, at least in part.
func heraldOr(meta *metadata.Collection, v any) (string, []any, bool) {
	arr, isArr := v.(*types.Array)
	if !isArr || arr.Len() == 0 {
		return "", nil, false
	}

	var branches []string
	var args []any
	exact := true

	for i := 0; i < arr.Len(); i++ {
		branch, isDoc := must.NotFail(arr.Get(i)).(*types.Document)
		if !isDoc {
			return "", nil, false
		}

		conds, branchArgs, branchExact := heraldConditions(meta, branch)
		if len(conds) == 0 {
			return "", nil, false
		}

		branches = append(branches, "("+strings.Join(conds, " AND ")+")")
		args = append(args, branchArgs...)
		exact = exact && branchExact
	}

	return "(" + strings.Join(branches, " OR ") + ")", args, exact
}

// heraldIn returns "column = ?" or "column IN (?, ...)".
func heraldIn(column string, n int) string {
	if n == 1 {
		return column + " = ?"
	}

	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// heraldValues returns the values v stands for: one string (or ObjectId when ids is set), or the
// values of {$in: [...]}; ok is false when v is anything else.
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
			value := must.NotFail(arr.Get(i))
			if !heraldScalar(value, ids) {
				return nil, false
			}

			values = append(values, value)
		}

		return values, true
	}

	if !heraldScalar(v, ids) {
		return nil, false
	}

	return []any{v}, true
}

func heraldScalar(v any, ids bool) bool {
	switch v.(type) {
	case string:
		return true
	case types.ObjectID:
		return ids
	default:
		return false
	}
}

// heraldJSON returns the JSON texts of values, as FerretDB stores them.
func heraldJSON(values []any) []any {
	texts := make([]any, len(values))
	for i, v := range values {
		texts[i] = string(must.NotFail(sjson.MarshalSingleValue(v)))
	}

	return texts
}

// heraldCount answers a count in SQL when the handler asks for one (params.HeraldCount) and the whole
// filter translates exactly: no document is read or decoded. Otherwise it sets -1 and returns false,
// and Query reads the documents as usual.
func (c *collection) heraldCount(ctx context.Context, params *backends.QueryParams) (*backends.QueryResult, bool, error) {
	if params == nil || params.HeraldCount == nil {
		return nil, false, nil
	}

	*params.HeraldCount = -1

	db := c.r.DatabaseGetExisting(ctx, c.dbName)
	meta := c.r.CollectionGet(ctx, c.dbName, c.name)
	if db == nil || meta == nil || params.Limit != 0 || params.OnlyRecordIDs {
		return nil, false, nil
	}

	conds, args, exact := heraldConditions(meta, params.Filter)
	if !exact {
		return nil, false, nil
	}

	q := fmt.Sprintf(`SELECT COUNT(*) FROM %q WHERE %s`, meta.TableName, strings.Join(conds, " AND "))

	var n int64
	if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return nil, true, lazyerrors.Error(err)
	}

	*params.HeraldCount = n

	return &backends.QueryResult{Iter: newQueryIterator(ctx, nil, false)}, true, nil
}
