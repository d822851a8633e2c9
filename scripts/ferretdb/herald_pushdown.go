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
	"github.com/FerretDB/FerretDB/internal/util/fsql"
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
	f := heraldConditions(meta, filter)
	if len(f.conds) == 0 {
		return "", nil
	}

	return " WHERE " + strings.Join(f.conds, " AND "), f.args
}

// heraldFilter is what SQLite is handed of a filter: conditions to be ANDed, and their arguments.
type heraldFilter struct {
	conds []string
	args  []any

	// exact is true when the conditions select exactly the documents the filter matches (every
	// condition of the filter was translated, and each exactly), provided each field in numeric
	// holds a number, null or nothing in every selected document (see heraldNumeric).
	exact   bool
	numeric []string
}

// heraldConditions translates the top-level conditions of filter it knows.
//
// Translated:
//   - _id equal to a string or ObjectId, or $in a list of them (exact): the _id index;
//   - a field equal to a string, or $in a list of strings, when the field is the first key of one
//     of the collection's indexes (exact): that index. A field equal to "x" also matches an array
//     that holds "x", as in MongoDB;
//   - a field equal to null (exact): missing, null, or an array that holds null;
//   - a field that $exists or not (exact);
//   - a field compared with a number by $gt, $gte, $lt and $lte: a superset (arrays, and values of
//     other types that SQLite orders after numbers, are kept for the handler to decide), exact
//     where the field holds numbers only;
//   - $or of documents each translated in part at least (exact if each is exactly).
//
// A value is compared as the JSON text FerretDB's encoder makes of it, which is also how it is
// stored and what SQLite's -> returns (escapes included), so equal strings compare equal.
func heraldConditions(meta *metadata.Collection, filter *types.Document) heraldFilter {
	var f heraldFilter
	if filter == nil || filter.Len() == 0 {
		return f
	}

	indexed := map[string]bool{}
	for _, index := range meta.Settings.Indexes {
		indexed[index.Key[0].Field] = true
	}

	f.exact = true
	iter := filter.Iterator()
	defer iter.Close()

	for {
		key, v, err := iter.Next()
		if err != nil {
			break
		}

		cond := heraldCondition(meta, indexed, key, v)
		if len(cond.conds) == 0 {
			f.exact = false
			continue
		}

		f.conds = append(f.conds, cond.conds...)
		f.args = append(f.args, cond.args...)
		f.exact = f.exact && cond.exact
		f.numeric = append(f.numeric, cond.numeric...)
	}

	f.exact = f.exact && len(f.conds) > 0

	return f
}

// heraldCondition translates one top-level key of a filter; no conditions when it cannot.
func heraldCondition(meta *metadata.Collection, indexed map[string]bool, key string, v any) heraldFilter {
	one := func(cond string, args []any, exact bool) heraldFilter {
		return heraldFilter{conds: []string{cond}, args: args, exact: exact}
	}

	if key == "_id" {
		if values, ok := heraldValues(v, true); ok {
			return one(heraldIn(metadata.IDColumn, len(values)), heraldJSON(values), true)
		}

		return heraldFilter{}
	}

	if key == "$or" {
		return heraldOr(meta, v)
	}

	if !heraldField.MatchString(key) {
		return heraldFilter{}
	}

	if _, isNull := v.(types.NullType); isNull {
		return one(heraldNull(key), nil, true)
	}

	if indexed[key] {
		if values, ok := heraldValues(v, false); ok {
			return one(heraldEqual(key, values))
		}
	}

	if d, isDoc := v.(*types.Document); isDoc {
		if cond, ok := heraldExists(key, d); ok {
			return one(cond, nil, true)
		}

		if cond, args, ok := heraldRange(key, d); ok {
			return heraldFilter{conds: []string{cond}, args: args, exact: true, numeric: []string{key}}
		}
	}

	return heraldFilter{}
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

// heraldExists translates {$exists: <bool>}: json_type is NULL only where the field is missing.
func heraldExists(field string, d *types.Document) (string, bool) {
	if d.Len() != 1 {
		return "", false
	}

	v, err := d.Get("$exists")
	if err != nil {
		return "", false
	}

	want, isBool := v.(bool)
	if !isBool {
		return "", false
	}

	op := "IS NULL"
	if want {
		op = "IS NOT NULL"
	}

	return fmt.Sprintf("json_type(%s, '$.%s') %s", metadata.DefaultColumn, field, op), true
}

// heraldRange selects a superset of the documents whose field compares with the numbers of d, when d
// holds only $gt, $gte, $lt and $lte of numbers: a number in range, or an array (its elements are
// for the handler to check). ->> returns a number as a number and anything else but null as text,
// which SQLite orders after every number, so some non-numbers pass a lower bound; never one that
// matches. Where the field holds numbers only (see heraldNumeric), the selection is exact.
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

		arg, ok := heraldNumber(must.NotFail(d.Get(op)))
		if !ok {
			return "", nil, false
		}

		parts = append(parts, fmt.Sprintf("%s %s ?", value, sqlOp))
		args = append(args, arg)
	}

	if len(parts) == 0 {
		return "", nil, false
	}

	cond := fmt.Sprintf("(json_type(%s, '$.%s') = 'array' OR (%s))", metadata.DefaultColumn, field, strings.Join(parts, " AND "))

	return cond, args, true
}

// heraldNumber returns v as SQLite compares it, if it is a number (not NaN).
func heraldNumber(v any) (any, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return n, !math.IsNaN(n)
	default:
		return nil, false
	}
}

// heraldNumeric is true where each field is missing, null, or a number: an int, long or double in
// FerretDB's schema (a date is stored as a number too, but is no number to MongoDB).
func heraldNumeric(fields []string) string {
	parts := make([]string, len(fields))
	for i, field := range fields {
		parts[i] = fmt.Sprintf(
			`(json_type(%[1]s, '$.%[2]s') IS NULL OR json_type(%[1]s, '$.%[2]s') = 'null' OR json_extract(%[1]s, '$."$s".p.%[2]s.t') IN ('int', 'long', 'double'))`,
			metadata.DefaultColumn, field,
		)
	}

	return strings.Join(parts, " AND ")
}

// heraldOr translates {$or: [...]} when every branch is translated, at least in part.
func heraldOr(meta *metadata.Collection, v any) heraldFilter {
	arr, isArr := v.(*types.Array)
	if !isArr || arr.Len() == 0 {
		return heraldFilter{}
	}

	f := heraldFilter{exact: true}
	var branches []string

	for i := 0; i < arr.Len(); i++ {
		doc, isDoc := must.NotFail(arr.Get(i)).(*types.Document)
		if !isDoc {
			return heraldFilter{}
		}

		branch := heraldConditions(meta, doc)
		if len(branch.conds) == 0 {
			return heraldFilter{}
		}

		branches = append(branches, "("+strings.Join(branch.conds, " AND ")+")")
		f.args = append(f.args, branch.args...)
		f.exact = f.exact && branch.exact
		f.numeric = append(f.numeric, branch.numeric...)
	}

	f.conds = []string{"(" + strings.Join(branches, " OR ") + ")"}

	return f
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

// heraldExact returns the filter's translation if it is exact for the documents it selects, with
// every field of also holding numbers only: it asks SQLite whether any selected document holds
// something else there (an array, a string, a date), and returns ok false if one does.
func heraldExact(ctx context.Context, db *fsql.DB, meta *metadata.Collection, filter *types.Document, also ...string) (heraldFilter, bool, error) {
	f := heraldConditions(meta, filter)
	if !f.exact {
		return f, false, nil
	}

	numeric := append(append([]string{}, f.numeric...), also...)
	if len(numeric) == 0 {
		return f, true, nil
	}

	q := fmt.Sprintf(
		`SELECT EXISTS (SELECT 1 FROM %q WHERE %s AND NOT (%s))`,
		meta.TableName, strings.Join(f.conds, " AND "), heraldNumeric(numeric),
	)

	var other bool
	if err := db.QueryRowContext(ctx, q, f.args...).Scan(&other); err != nil {
		return f, false, lazyerrors.Error(err)
	}

	return f, !other, nil
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

	f, exact, err := heraldExact(ctx, db, meta, params.Filter)
	if err != nil || !exact {
		return nil, err != nil, err
	}

	q := fmt.Sprintf(`SELECT COUNT(*) FROM %q WHERE %s`, meta.TableName, strings.Join(f.conds, " AND "))

	var n int64
	if err := db.QueryRowContext(ctx, q, f.args...).Scan(&n); err != nil {
		return nil, true, lazyerrors.Error(err)
	}

	*params.HeraldCount = n

	return &backends.QueryResult{Iter: newQueryIterator(ctx, nil, false)}, true, nil
}

// heraldSorted answers a find with a sort on one field and a limit (params.HeraldSort, HeraldLimit)
// in SQL when the filter translates exactly and the field holds numbers, null or nothing in every
// selected document: SQLite orders those as MongoDB does (null and missing first), so it returns
// only the first HeraldLimit documents instead of every match. The handler still filters, sorts and
// limits what comes back. Otherwise it returns false, and Query reads every match as usual.
func (c *collection) heraldSorted(ctx context.Context, params *backends.QueryParams) (*backends.QueryResult, bool, error) {
	if params == nil || params.HeraldSort.Len() != 1 || params.HeraldLimit <= 0 || params.OnlyRecordIDs {
		return nil, false, nil
	}

	field := params.HeraldSort.Keys()[0]
	if !heraldField.MatchString(field) {
		return nil, false, nil
	}

	direction, ok := heraldNumber(must.NotFail(params.HeraldSort.Get(field)))
	if !ok {
		return nil, false, nil
	}

	order := "ASC"
	if d, isInt := direction.(int64); (isInt && d < 0) || (!isInt && direction.(float64) < 0) {
		order = "DESC"
	}

	db := c.r.DatabaseGetExisting(ctx, c.dbName)
	meta := c.r.CollectionGet(ctx, c.dbName, c.name)
	if db == nil || meta == nil || meta.Capped() {
		return nil, false, nil
	}

	f, exact, err := heraldExact(ctx, db, meta, params.Filter, field)
	if err != nil || !exact {
		return nil, err != nil, err
	}

	q := fmt.Sprintf(
		`SELECT %s FROM %q WHERE %s ORDER BY %s->>'$.%s' %s LIMIT ?`,
		metadata.DefaultColumn, meta.TableName, strings.Join(f.conds, " AND "), metadata.DefaultColumn, field, order,
	)

	rows, err := db.QueryContext(ctx, q, append(f.args, params.HeraldLimit)...)
	if err != nil {
		return nil, true, lazyerrors.Error(err)
	}

	return &backends.QueryResult{Iter: newQueryIterator(ctx, rows, false)}, true, nil
}
