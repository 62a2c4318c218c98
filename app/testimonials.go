package app

// Testimonials by consent: an author marks its own message "OK to quote" (with or without its
// name) and can take it back; the owner and moderators export the consented messages as
// Markdown, HTML or JSON — nothing else leaves the community.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/kith-app/kith/app/community"
)

// quotesPage is the store page of quote consents (no channel has this ID).
var quotesPage = community.Hash{0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9,
	0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9, 0xf9}

// Testimonial is a message its author agreed to have quoted.
type Testimonial struct {
	Message community.Hash
	Text    string // its latest text (an edit counts)
	Name    string // the author's name, only when the author agreed to it; "" otherwise
	At      time.Time
}

// QuoteOK records the author's consent to quote its own message (withName: with its name), or
// takes it back (revoke). The latest consent or revocation of a message stands.
func (s *Service) QuoteOK(ctx context.Context, id, message community.Hash, withName, revoke bool) error {
	r, err := s.room(id)
	if err != nil {
		return err
	}
	e, ok, err := s.store.Event(id, message)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	me := s.id.PublicKey()
	switch {
	case st.RoleOf(me) == community.RoleNone:
		return notAllowed("only members of %q mark their messages OK to quote", st.Name)
	case !ok || e.Kind != community.KindMessage || !e.HasBody():
		return &sentenceError{msg: "no such message: `kithd messages --json` lists them", kind: ErrBadInput}
	case !bytes.Equal(e.Author, me):
		return notAllowed("only its author says a message is OK to quote")
	}
	c := community.NewContent(community.KindQuoteOK)
	c.Target, c.Flag = message, revoke
	if withName {
		c.Choice = 1
	}
	body, err := s.sealOwnLocked(ctx, r, c)
	if err != nil {
		return err
	}
	_, err = s.writeOwnLocked(ctx, r, community.KindQuoteOK, body, quotesPage, e.Position())
	return err
}

// Testimonials lists the messages their authors agreed to have quoted, oldest first (the owner
// and moderators): each message's latest consent stands, and only its author's counts.
func (s *Service) Testimonials(id community.Hash) ([]Testimonial, error) {
	r, err := s.room(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	st := r.folder.State()
	r.mu.Unlock()
	if st.RoleOf(s.id.PublicKey()) < community.RoleModerator {
		return nil, notAllowed("only the owner and moderators of %q export testimonials", st.Name)
	}
	all, err := s.pageInOrder(id, quotesPage)
	if err != nil {
		return nil, err
	}
	type consent struct {
		ok, named bool
	}
	latest := map[community.Hash]consent{}
	var order []community.Hash
	for _, e := range all {
		c, err := r.keys.Open(e)
		if err != nil || st.CheckContent(e) != nil {
			continue
		}
		target, ok, err := s.store.Event(id, c.Target)
		if err != nil || !ok || !bytes.Equal(target.Author, e.Author) {
			continue // only the author's consent counts
		}
		if _, seen := latest[c.Target]; !seen {
			order = append(order, c.Target)
		}
		latest[c.Target] = consent{ok: !c.Flag, named: c.Choice == 1}
	}
	var out []Testimonial
	for _, m := range order {
		c := latest[m]
		if !c.ok {
			continue
		}
		msg, ok, err := s.Message(id, m)
		if err != nil || !ok || msg.Text == "" {
			continue // deleted, or unreadable here
		}
		t := Testimonial{Message: m, Text: msg.Text, At: msg.Time}
		if c.named {
			t.Name = msg.Name
		}
		out = append(out, t)
	}
	return out, nil
}

// ExportTestimonials writes the testimonials as md, html or json.
func ExportTestimonials(community string, ts []Testimonial, format string) (string, error) {
	var b strings.Builder
	switch format {
	case "md":
		fmt.Fprintf(&b, "# What members of %s say\n\n", community)
		for _, t := range ts {
			for _, line := range strings.Split(t.Text, "\n") {
				fmt.Fprintf(&b, "> %s\n", line)
			}
			who := "a member"
			if t.Name != "" {
				who = t.Name
			}
			fmt.Fprintf(&b, ">\n> — %s, %s\n\n", who, t.At.UTC().Format("January 2006"))
		}
	case "html":
		fmt.Fprintf(&b, "<!doctype html>\n<meta charset=\"utf-8\">\n<title>What members of %s say</title>\n<h1>What members of %s say</h1>\n",
			html.EscapeString(community), html.EscapeString(community))
		for _, t := range ts {
			who := "a member"
			if t.Name != "" {
				who = t.Name
			}
			fmt.Fprintf(&b, "<blockquote><p>%s</p><footer>— %s, %s</footer></blockquote>\n",
				strings.ReplaceAll(html.EscapeString(t.Text), "\n", "<br>"), html.EscapeString(who), t.At.UTC().Format("January 2006"))
		}
	case "json":
		type item struct {
			Text string `json:"text"`
			Name string `json:"name,omitempty"`
			At   string `json:"at"`
		}
		items := []item{}
		for _, t := range ts {
			items = append(items, item{Text: t.Text, Name: t.Name, At: t.At.UTC().Format(time.RFC3339)})
		}
		out, _ := json.MarshalIndent(items, "", "  ")
		return string(out), nil
	default:
		return "", &sentenceError{msg: fmt.Sprintf("the format is md, html or json, not %q", format), kind: ErrBadInput}
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
