package notify

import (
	"context"
	"errors"
	"fmt"
)

// Sender delivers a rendered message over one channel. An error that
// retrying cannot fix wraps ErrPermanent; any other error is retried.
// Errors must not carry the message's text (it may hold a code).
type Sender interface {
	Send(ctx context.Context, r Rendered) error
}

// Router sends each message through the sender of its channel.
//
// When Outbox is set (development mode), every message is also recorded
// there once it is sent, and a channel with no sender configured delivers
// to the outbox alone. Without an Outbox, a message for a channel with no
// sender fails permanently.
type Router struct {
	Email  Sender
	SMS    Sender
	Outbox *Outbox
}

var errNoSender = errors.New("notify: no sender for the channel")

// Deliver renders m and sends it. Render errors wrap ErrPermanent: the
// same message would fail again. A decoy is rendered and dropped.
func (rt *Router) Deliver(ctx context.Context, m Message) error {
	r, err := Render(m)
	if err != nil {
		return permanent(err)
	}
	if m.Decoy {
		return nil
	}
	return rt.send(ctx, m, r)
}

// Send routes an already rendered message; it makes a Router a Sender.
func (rt *Router) Send(ctx context.Context, r Rendered) error {
	return rt.send(ctx, Message{Channel: r.Channel, To: r.To}, r)
}

func (rt *Router) send(ctx context.Context, m Message, r Rendered) error {
	var s Sender
	switch r.Channel {
	case ChannelEmail:
		s = rt.Email
	case ChannelSMS:
		s = rt.SMS
	default:
		return permanent(fmt.Errorf("notify: unknown channel %q", r.Channel))
	}
	if s != nil {
		if err := s.Send(ctx, r); err != nil {
			return err
		}
	} else if rt.Outbox == nil {
		return permanent(fmt.Errorf("%w %q", errNoSender, r.Channel))
	}
	if rt.Outbox != nil {
		rt.Outbox.record(m, r)
	}
	return nil
}
