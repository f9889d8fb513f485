package sqlstore

// Conversions between Go values and columns that both dialects share: times
// in UTC with NULL for the zero time, string lists and string maps as JSON,
// byte slices with NULL or empty for nil.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// nullTime scans a nullable timestamp of either dialect into a time.Time
// (zero for NULL).
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.t = time.Time{}
	case time.Time:
		*n.t = v.UTC()
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

func (n nullTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			*n.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: unparsable time %q", s)
}

var _ sql.Scanner = nullTime{}

// tArg turns a zero time into NULL.
func tArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// jsonList encodes a string list for a JSON column; nil stays [].
func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	raw, _ := json.Marshal(l)
	return string(raw)
}

// listScan scans a JSON column into a string list.
type listScan struct{ l *[]string }

func (ls listScan) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		*ls.l = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		// pgx decodes jsonb itself when the destination is not a scanner of
		// text; re-encode to keep one path.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		raw = b
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("sqlstore: decode list: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*ls.l = out
	return nil
}

// nilIfEmpty stores an empty byte slice as NULL.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nonNil keeps an empty value distinct from NULL in NOT NULL columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// dataScan scans a JSON object column of either dialect.
type dataScan struct{ m map[string]string }

func (d *dataScan) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		raw = b
	}
	return json.Unmarshal(raw, &d.m)
}
