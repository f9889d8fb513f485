package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// eventCalls are the functions that take an audit event type among their
// arguments; eventFields and eventVars hold one in a composite literal or
// a local variable.
var (
	eventCalls  = map[string]bool{"Record": true, "record": true, "recordTx": true, "audit": true, "RecordBlocked": true, "SetPassword": true}
	eventFields = map[string]bool{"Type": true, "Failure": true, "Blocked": true}
	eventVars   = map[string]bool{"event": true, "typ": true}
	dotted      = regexp.MustCompile(`^[a-z_]+\.[a-z_.]+$`)
	eventName   = regexp.MustCompile(`^[a-z_]+(\.[a-z_.]+)?$`)
)

// sourceUses walks every non-test Go file of the module and returns the
// audit event types it records and the message keys it adds (AddMsg) or
// translates (T with a literal key).
func sourceUses(t *testing.T) (events, keys map[string]string) {
	t.Helper()
	events, keys = map[string]string{}, map[string]string{}
	fset := token.NewFileSet()
	lit := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil
	}
	ev := func(e ast.Expr) {
		if s, ok := lit(e); ok && eventName.MatchString(s) {
			events[s] = fset.Position(e.Pos()).String()
		}
	}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "node_modules" || n == "conformance" || (strings.HasPrefix(n, ".") && n != "..") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				switch {
				case eventCalls[name]:
					for _, a := range n.Args {
						ev(a)
					}
				case name == "AddMsg" && len(n.Args) == 3:
					if s, ok := lit(n.Args[2]); ok {
						keys["msg."+s] = fset.Position(n.Pos()).String()
					}
				case name == "T" && len(n.Args) >= 2:
					if s, ok := lit(n.Args[1]); ok && dotted.MatchString(s) {
						keys[s] = fset.Position(n.Pos()).String()
					}
				}
			case *ast.CompositeLit:
				typ := ""
				switch ct := n.Type.(type) {
				case *ast.SelectorExpr:
					typ = ct.Sel.Name
				case *ast.Ident:
					typ = ct.Name
				}
				if typ != "Event" && typ != "PasswordEvents" {
					return true
				}
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && eventFields[k.Name] {
							ev(kv.Value)
						}
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && eventVars[id.Name] && i < len(n.Rhs) {
						ev(n.Rhs[i])
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return events, keys
}

// TestEveryEventAndMessageHasText: every audit event type the code records
// reads as its own line in the activity log (never the catch-all
// «Действие в учётной записи»), and every message key the code adds or
// translates exists, in Russian and in English.
func TestEveryEventAndMessageHasText(t *testing.T) {
	tr, err := loadTranslations(files)
	if err != nil {
		t.Fatal(err)
	}
	events, keys := sourceUses(t)
	// The walk must see the events it is known to record.
	for _, want := range []string{"login.success", "account.created", "session.ended", "recovery.code_sent", "verification.verified", "level.changed", "token.issued"} {
		if _, ok := events[want]; !ok {
			t.Fatalf("the source walk did not find event %q; found %d events", want, len(events))
		}
	}
	if len(keys) < 10 {
		t.Fatalf("the source walk found only %d message keys", len(keys))
	}
	names := make([]string, 0, len(events))
	for e := range events {
		names = append(names, e)
	}
	sort.Strings(names)
	for _, e := range names {
		for _, lang := range languages {
			if _, ok := tr[lang]["activity."+e]; !ok {
				t.Errorf("%s.json lacks %q (event recorded at %s)", lang, "activity."+e, events[e])
			}
		}
	}
	for k, at := range keys {
		for _, lang := range languages {
			if _, ok := tr[lang][k]; !ok {
				t.Errorf("%s.json lacks %q (used at %s)", lang, k, at)
			}
		}
	}
}
