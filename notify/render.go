package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
)

// Templates live in templates/<lang>/. A message <name> is two files:
//
//	<name>.txt   defines "subject" (e-mail subject, one line), "sms" (the
//	             whole SMS: short, no links or data a stranger controls) and
//	             "text" (the text/plain part of the e-mail);
//	<name>.html  defines "body", placed by _layout.html into the text/html
//	             part; html/template escapes every value.
//
// Files whose names begin with "_" are shared parts. The data of every
// template is Message.Data; a key a template needs but the message lacks
// is an error, never an empty hole in a letter.
//
//go:embed templates/*/*.txt templates/*/*.html
var templateFS embed.FS

// DefaultLang is the language of a message that names none.
const DefaultLang = "ru"

// Errors of Render that callers may branch on.
var (
	ErrUnknownTemplate = errors.New("notify: unknown template")
	ErrUnknownLang     = errors.New("notify: unknown language")
)

// aliases are template names that render as another template with some
// data fixed.
var aliases = map[string]struct {
	template string
	data     map[string]string
}{
	"recovery_code": {"otp", map[string]string{"purpose": "recover"}},
}

type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// catalogue maps lang → name → templates; parsed once.
var catalogue = sync.OnceValues(func() (map[string]map[string]templateSet, error) {
	return parseTemplates(templateFS, "templates")
})

var funcs = map[string]any{"plural": plural}

func parseTemplates(fsys fs.FS, root string) (map[string]map[string]templateSet, error) {
	langs, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]templateSet{}
	for _, l := range langs {
		if !l.IsDir() {
			continue
		}
		dir := path.Join(root, l.Name())
		set, err := parseLang(fsys, dir)
		if err != nil {
			return nil, err
		}
		out[l.Name()] = set
	}
	return out, nil
}

func parseLang(fsys fs.FS, dir string) (map[string]templateSet, error) {
	textBase := texttemplate.New("").Funcs(funcs).Option("missingkey=error")
	htmlBase := htmltemplate.New("").Funcs(funcs).Option("missingkey=error")
	if _, err := textBase.ParseFS(fsys, path.Join(dir, "_*.txt")); err != nil {
		return nil, fmt.Errorf("notify: parse %s: %w", dir, err)
	}
	if _, err := htmlBase.ParseFS(fsys, path.Join(dir, "_*.html")); err != nil {
		return nil, fmt.Errorf("notify: parse %s: %w", dir, err)
	}
	names, err := fs.Glob(fsys, path.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	set := map[string]templateSet{}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".txt")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := textBase.Clone()
		if err == nil {
			t, err = t.ParseFS(fsys, file)
		}
		if err != nil {
			return nil, fmt.Errorf("notify: parse %s: %w", file, err)
		}
		// The .txt is parsed into the HTML set too, so that the phrases it
		// defines (a purpose, a warning) are written once for both bodies.
		h, err := htmlBase.Clone()
		if err == nil {
			h, err = h.ParseFS(fsys, file, path.Join(dir, name+".html"))
		}
		if err != nil {
			return nil, fmt.Errorf("notify: parse %s.html: %w", name, err)
		}
		for _, block := range []string{"subject", "sms", "text"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("notify: %s defines no %q", file, block)
			}
		}
		if h.Lookup("layout") == nil || h.Lookup("body") == nil {
			return nil, fmt.Errorf("notify: %s/%s.html: want a \"body\" and a shared \"layout\"", dir, name)
		}
		set[name] = templateSet{text: t, html: h}
	}
	return set, nil
}

// Templates lists the message templates of lang (aliases excluded), sorted.
func Templates(lang string) []string {
	cat, err := catalogue()
	if err != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(cat[lang]))
}

// Languages lists the languages messages are written in, sorted.
func Languages() []string {
	cat, err := catalogue()
	if err != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(cat))
}

// normLang turns "", "RU", "en-GB", "en_US" into a language of ours.
func normLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if lang == "" {
		return DefaultLang
	}
	return lang
}

// Render turns m into the text a Sender delivers. An empty Lang means
// Russian; an unknown template or language, or data missing a key the
// template needs, is an error.
func Render(m Message) (Rendered, error) {
	cat, err := catalogue()
	if err != nil {
		return Rendered{}, err
	}
	name, data := m.Template, m.Data
	if a, ok := aliases[name]; ok {
		name, data = a.template, maps.Clone(data)
		if data == nil {
			data = map[string]string{}
		}
		maps.Copy(data, a.data)
	}
	if data == nil {
		data = map[string]string{}
	}
	lang := normLang(m.Lang)
	set, ok := cat[lang]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownLang, m.Lang)
	}
	ts, ok := set[name]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownTemplate, m.Template)
	}
	if m.To == "" {
		return Rendered{}, fmt.Errorf("notify: render %s: no recipient", m.Template)
	}
	r := Rendered{Channel: m.Channel, To: m.To}
	switch m.Channel {
	case ChannelSMS:
		r.Text, err = execText(ts.text, "sms", data)
	case ChannelEmail:
		if r.Subject, err = execText(ts.text, "subject", data); err != nil {
			break
		}
		r.Subject = strings.Join(strings.Fields(r.Subject), " ")
		if r.Text, err = execText(ts.text, "text", data); err != nil {
			break
		}
		var b bytes.Buffer
		if err = ts.html.ExecuteTemplate(&b, "layout", data); err == nil {
			r.HTML = b.String()
		}
	default:
		return Rendered{}, fmt.Errorf("notify: render %s: unknown channel %q", m.Template, m.Channel)
	}
	if err != nil {
		return Rendered{}, fmt.Errorf("notify: render %s/%s: %w", m.Template, lang, err)
	}
	return r, nil
}

func execText(t *texttemplate.Template, block string, data map[string]string) (string, error) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, block, data); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// plural picks the form of a noun for the number n: three forms for
// Russian (one, few, many: 1 минута, 2 минуты, 5 минут), two for English
// (1 minute, 5 minutes).
func plural(n string, forms ...string) (string, error) {
	if len(forms) != 2 && len(forms) != 3 {
		return "", fmt.Errorf("plural: want 2 or 3 forms, got %d", len(forms))
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 0 {
		return forms[len(forms)-1], nil
	}
	if len(forms) == 2 {
		if v == 1 {
			return forms[0], nil
		}
		return forms[1], nil
	}
	switch d, dd := v%10, v%100; {
	case d == 1 && dd != 11:
		return forms[0], nil
	case d >= 2 && d <= 4 && (dd < 12 || dd > 14):
		return forms[1], nil
	default:
		return forms[2], nil
	}
}
