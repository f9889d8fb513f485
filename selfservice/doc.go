// Package selfservice is the one engine behind every flow a citizen goes
// through on gosid's own pages and through the JSON flows API: signing in,
// registering, recovering access, the second factor and the settings of
// the personal account (those live in the sub-packages, one capability a
// folder).
//
// The engine owns what every flow shares, written once:
//
//   - one flow record (Flow) and one store (FlowStore) for every flow, in
//     the short-lived store, addressed by an id and proved by a secret flow
//     token that an app presents as a bearer token and a browser keeps in a
//     cookie; an authorization request being signed in for is a flow too;
//   - the View of a flow, which both faces show: the pages render it with a
//     template, the API returns it as JSON;
//   - the two faces' plumbing: reading a form or a JSON body with the same
//     limits, CSRF, the signed-in guard by cookie or bearer token, errors as
//     a page in the citizen's language or as RFC 6749-style JSON;
//   - the steps more than one flow takes: sending and checking one-time
//     codes, recording audit events, notifying the owner, and starting a
//     session (StartSession), the one place where a session begins.
//
// A difference between the page and the API that is not about presentation
// cannot be written here: the flows decide, the faces only show.
package selfservice
