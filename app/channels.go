package app

// Channels: the owner and moderators make, rename and archive them (authority events, folded by
// every member: see community.State.nameChannel for two channels made with one name at once).

import (
	"context"
	"errors"
	"fmt"

	"github.com/kith-app/kith/app/community"
)

// ErrNotAllowed is what an act refused for the asker's role or membership wraps (KindNotAllowed).
var ErrNotAllowed = errors.New("app: not allowed")

// notAllowed is a sentence that matches ErrNotAllowed.
func notAllowed(format string, a ...any) error {
	return &sentenceError{msg: fmt.Sprintf(format, a...), kind: ErrNotAllowed}
}

// sentenceError is a sentence for a person that matches a sentinel with errors.Is, without
// the sentinel's words.
type sentenceError struct {
	msg  string
	kind error
	err  error // what errors.Is finds besides the kind (nil: nothing)
}

func (e *sentenceError) Error() string { return e.msg }
func (e *sentenceError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// Channel is a channel as views show it.
type Channel struct {
	ID       community.Hash
	Name     string
	Type     community.ChannelKind
	Archived bool
	// Asked is the name it was made or renamed with when another channel had that name already
	// (made at the same time elsewhere): Name is then Asked with a number. "" otherwise.
	Asked string
}

func channelView(c community.Channel) Channel {
	return Channel{ID: c.ID, Name: c.Name, Type: c.Type, Archived: c.Archived, Asked: c.Asked}
}

// Channels lists a community's channels in the order they were made.
func (s *Service) Channels(id community.Hash) ([]Channel, error) {
	st, err := s.state(id)
	if err != nil {
		return nil, err
	}
	var out []Channel
	for _, c := range st.Channels() {
		out = append(out, channelView(c))
	}
	return out, nil
}

// CreateChannel makes a channel (the owner and moderators): chat, where every member posts, or
// announcements, where only the owner and moderators do. The name must not be another channel's
// (as NameKey compares names); one made elsewhere meanwhile with the same name gets a number.
func (s *Service) CreateChannel(ctx context.Context, id community.Hash, name string, t community.ChannelKind) (Channel, error) {
	name, err := community.LimitChannelName.CleanName(name)
	if err != nil {
		return Channel{}, err
	}
	if t != community.ChannelAnnouncements {
		t = community.ChannelChat
	}
	r, err := s.room(id)
	if err != nil {
		return Channel{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if err := s.mayEditChannels(st); err != nil {
		return Channel{}, err
	}
	if err := nameFree(st, name, community.Hash{}); err != nil {
		return Channel{}, err
	}
	body, err := community.Encode(&community.ChannelCreate{Name: name, Type: t})
	if err != nil {
		return Channel{}, err
	}
	e, err := s.writeOwnLocked(ctx, r, community.KindChannelCreate, body, community.Hash{})
	if err != nil {
		return Channel{}, err
	}
	c, ok := r.folder.State().Channel(community.ChannelID(e.ID, 0))
	if !ok {
		return Channel{}, errors.New("app: the new channel is not in the log") // a fold bug: never silent
	}
	return channelView(c), nil
}

// UpdateChannel renames a channel, or archives it (nobody posts in it any more; what it holds
// stays readable) or brings it back (the owner and moderators).
func (s *Service) UpdateChannel(ctx context.Context, id, channel community.Hash, name string, archived bool) (Channel, error) {
	r, err := s.room(id)
	if err != nil {
		return Channel{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.folder.State()
	if err := s.mayEditChannels(st); err != nil {
		return Channel{}, err
	}
	c, ok := st.Channel(channel)
	if !ok {
		return Channel{}, fmt.Errorf("app: %q has no such channel (it may not have reached this device yet)", st.Name)
	}
	if name == "" {
		name = c.Name
	}
	if name, err = community.LimitChannelName.CleanName(name); err != nil {
		return Channel{}, err
	}
	if name == c.Name && archived == c.Archived {
		return channelView(c), nil // nothing to change
	}
	if name != c.Name {
		if err := nameFree(st, name, channel); err != nil {
			return Channel{}, err
		}
	}
	if archived && !c.Archived && c.Type == community.ChannelChat {
		open := 0
		for _, o := range st.Channels() {
			if !o.Archived && o.Type == community.ChannelChat {
				open++
			}
		}
		if open == 1 {
			return Channel{}, fmt.Errorf("app: #%s is the last chat channel of %q: make another before archiving it", c.Name, st.Name)
		}
	}
	body, err := community.Encode(&community.ChannelUpdate{Channel: channel, Name: name, Archived: archived})
	if err != nil {
		return Channel{}, err
	}
	if _, err := s.writeOwnLocked(ctx, r, community.KindChannelUpdate, body, community.Hash{}); err != nil {
		return Channel{}, err
	}
	c, _ = r.folder.State().Channel(channel)
	return channelView(c), nil
}

// mayEditChannels refuses a member below moderator.
func (s *Service) mayEditChannels(st *community.State) error {
	switch st.RoleOf(s.id.PublicKey()) {
	case community.RoleNone:
		return notAllowed("you are no longer a member of %q", st.Name)
	case community.RoleMember:
		return notAllowed("only the owner and moderators of %q make, rename and archive channels", st.Name)
	}
	return nil
}

// nameFree refuses a name another channel than self has (as NameKey compares names).
func nameFree(st *community.State, name string, self community.Hash) error {
	key := community.NameKey(name)
	for _, c := range st.Channels() {
		if c.ID != self && community.NameKey(c.Name) == key {
			if c.Archived {
				return fmt.Errorf("app: an archived channel is called #%s: bring it back, or pick another name", c.Name)
			}
			return fmt.Errorf("app: #%s exists already: pick another name", c.Name)
		}
	}
	return nil
}
