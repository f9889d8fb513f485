package selfservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// APIFlow serves one kind of flow through the JSON flows API: a flow is
// addressed by its id and a bearer flow token, its state comes back as the
// View, and a flow that finished an authentication (View.Start) hands the
// app a session token: the API face of the engine.
type APIFlow struct {
	// Start begins a flow at POST /api/v1/flows/{kind}; nil when the kind
	// starts elsewhere (an endpoint of the session, a step-up).
	Start func(ctx context.Context, m Meta) (*View, error)
	// Show is the view of GET /api/v1/flows/{kind}/{id}.
	Show func(ctx context.Context, f *Flow, m Meta) (*View, error)
	// Submit runs one step; a nil view means Submit answered itself.
	Submit func(w http.ResponseWriter, r *http.Request, f *Flow, action string, in Input, m Meta) (*View, error)
}

// HandleFlow serves kind through the API; call it before MountAPI.
func (e *Engine) HandleFlow(kind string, h APIFlow) {
	if e.apiFlows == nil {
		e.apiFlows = map[string]APIFlow{}
	}
	e.apiFlows[kind] = h
}

// MountAPI mounts the flows API for the kinds handled.
func (e *Engine) MountAPI(r *mux.Router) {
	var all, started []string
	for kind, h := range e.apiFlows {
		all = append(all, kind)
		if h.Start != nil {
			started = append(started, kind)
		}
	}
	slices.Sort(all)
	slices.Sort(started)
	api := r.PathPrefix(PathAPI).Subrouter()
	if len(started) > 0 {
		api.HandleFunc("/flows/{kind:"+strings.Join(started, "|")+"}", e.apiStart).Methods(http.MethodPost)
	}
	if len(all) > 0 {
		api.HandleFunc("/flows/{kind:"+strings.Join(all, "|")+"}/{id}", e.apiShow).Methods(http.MethodGet)
		api.HandleFunc("/flows/{kind:"+strings.Join(all, "|")+"}/{id}", e.apiSubmit).Methods(http.MethodPost)
	}
}

func (e *Engine) apiStart(w http.ResponseWriter, r *http.Request) {
	v, err := e.apiFlows[mux.Vars(r)["kind"]].Start(r.Context(), e.Meta(r))
	if err != nil {
		e.APIServerError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, v)
}

// apiFlow loads the flow a request addresses, or answers why not.
func (e *Engine) apiFlow(w http.ResponseWriter, r *http.Request) (*Flow, APIFlow, bool) {
	vars := mux.Vars(r)
	f, err := e.Flows.Load(r.Context(), vars["id"], vars["kind"], true, Bearer(r))
	switch {
	case errors.Is(err, ErrFlowToken):
		APIFail(w, http.StatusUnauthorized, "invalid_token", "The flow token is missing or wrong.")
	case errors.Is(err, ErrFlowExpired):
		APIFail(w, http.StatusGone, "flow_expired", "The flow is unknown or has expired; start a new one.")
	case err != nil:
		e.APIServerError(w, r, err)
	default:
		return f, e.apiFlows[f.Kind], true
	}
	return nil, APIFlow{}, false
}

func (e *Engine) apiShow(w http.ResponseWriter, r *http.Request) {
	f, h, ok := e.apiFlow(w, r)
	if !ok {
		return
	}
	v, err := h.Show(r.Context(), f, e.Meta(r))
	if err != nil {
		e.APIServerError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

func (e *Engine) apiSubmit(w http.ResponseWriter, r *http.Request) {
	f, h, ok := e.apiFlow(w, r)
	if !ok {
		return
	}
	in, action, err := ReadInput(r)
	if err != nil {
		APIFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	m := e.Meta(r)
	v, err := h.Submit(w, r, f, action, in, m)
	if err != nil {
		e.APIServerError(w, r, err)
		return
	}
	if v == nil {
		return
	}
	if v.Start != nil {
		if err := e.apiStartSession(r.Context(), f, v, in, m); err != nil {
			e.APIServerError(w, r, err)
			return
		}
	}
	status := Status(v)
	WriteJSON(w, status, v)
}

// apiStartSession starts the session a finished flow earned and puts its
// token (and the device token) on the view; the flow is over.
func (e *Engine) apiStartSession(ctx context.Context, f *Flow, v *View, in Input, m Meta) error {
	st := *v.Start
	st.Device = in.Get("device_token")
	started, err := e.StartSession(ctx, st, m)
	if err != nil {
		return err
	}
	v.SessionToken = started.Secret
	if st.Reason != Upgrade {
		v.DeviceToken = started.Device
	}
	if err := e.Flows.Delete(ctx, f.ID); err != nil {
		return fmt.Errorf("start session: end the flow: %w", err)
	}
	return nil
}
