package provider

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"
)

// maxFormMemory is what a multipart body may hold in memory; the body as a
// whole is already capped by the server's body limit. fosite uses the same.
const maxFormMemory = 1 << 20

// repeatable names the parameters an extension lets a request send more
// than once: RFC 8707 resource indicators.
var repeatable = map[string]bool{"resource": true}

// parseParams parses the query and the form body once (fosite then reads
// r.Form and r.PostForm as they are) and refuses a request that sends a
// parameter more than once, in the query, the body or both: RFC 6749 §3.1
// says they MUST NOT be, and reading the first of two values is how one
// party's parameter silently overrides another's.
func parseParams(r *http.Request) error {
	if err := r.ParseMultipartForm(maxFormMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return fosite.ErrInvalidRequest.WithHint("The request body could not be read as a form.").WithWrap(err)
	}
	if name := duplicated(r.Form); name != "" {
		return fosite.ErrInvalidRequest.WithHintf("The parameter '%s' was sent more than once.", name)
	}
	return nil
}

// duplicated returns a parameter of form that has more than one value
// (the first in name order, so the answer does not vary), or "".
func duplicated(form url.Values) string {
	var dups []string
	for k, v := range form {
		if len(v) > 1 && !repeatable[k] {
			dups = append(dups, k)
		}
	}
	if len(dups) == 0 {
		return ""
	}
	slices.Sort(dups)
	return dups[0]
}
