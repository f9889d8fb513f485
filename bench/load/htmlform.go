package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// hiddenInputs returns the hidden inputs (name → value) of the first form on
// the page whose action's path ends with action: the flow id and CSRF token
// a browser would post back. Other forms on the page (language switch,
// sign-out) are skipped, and so are inputs outside any form. It streams
// tokens instead of building a tree, since it runs once per flow under load.
func hiddenInputs(page []byte, action string) (url.Values, error) {
	z := html.NewTokenizer(bytes.NewReader(page))
	var (
		inForm, inMatch bool
		found           url.Values
	)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("parse page: %w", err)
			}
			if found == nil {
				return nil, fmt.Errorf("no form posting to %q on the page", action)
			}
			return found, nil
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "form" && inForm {
				inForm = false
				if inMatch {
					return found, nil
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "form":
				attrs := tagAttrs(z, hasAttr)
				inForm = true
				inMatch = actionMatches(attrs["action"], action)
				if inMatch {
					found = url.Values{}
				}
			case "input":
				if !inMatch {
					continue
				}
				attrs := tagAttrs(z, hasAttr)
				if strings.EqualFold(attrs["type"], "hidden") && attrs["name"] != "" {
					found.Set(attrs["name"], attrs["value"])
				}
			}
		}
	}
}

// tagAttrs reads the current tag's attributes, names lower-cased and values
// unescaped by the tokenizer; the first of a repeated attribute wins, as in
// a browser.
func tagAttrs(z *html.Tokenizer, more bool) map[string]string {
	attrs := map[string]string{}
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		if _, dup := attrs[string(k)]; !dup {
			attrs[string(k)] = string(v)
		}
	}
	return attrs
}

func actionMatches(formAction, want string) bool {
	path := formAction
	if u, err := url.Parse(formAction); err == nil {
		path = u.Path
	}
	return strings.HasSuffix(path, want)
}
