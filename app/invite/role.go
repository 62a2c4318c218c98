package invite

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is a member's role in a community. Roles are ordered: a higher value
// is a higher role.
type Role uint8

// The roles. An invite grants RoleMember or RoleModerator.
const (
	RoleNone      Role = 0
	RoleMember    Role = 1
	RoleModerator Role = 2
	RoleOwner     Role = 3
)

// String returns "member", "moderator" or "owner"; "none" for RoleNone and
// "role(N)" for a value that is not a role.
func (r Role) String() string {
	switch r {
	case RoleNone:
		return "none"
	case RoleMember:
		return "member"
	case RoleModerator:
		return "moderator"
	case RoleOwner:
		return "owner"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// ParseRole parses "member", "moderator" or "owner", ignoring case and
// surrounding spaces. Anything else, "none" included, is an error.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "member":
		return RoleMember, nil
	case "moderator":
		return RoleModerator, nil
	case "owner":
		return RoleOwner, nil
	}
	return RoleNone, fmt.Errorf("invite: %q is not a role: use member, moderator or owner", s)
}
