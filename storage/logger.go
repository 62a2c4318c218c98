package storage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// badgerLogger adapts slog to Badger's Logger: Badger's info and debug
// messages go out at Debug level (they are chatty), its warnings at Warn and
// its errors at Error.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, args ...any)   { b.log(slog.LevelError, f, args) }
func (b badgerLogger) Warningf(f string, args ...any) { b.log(slog.LevelWarn, f, args) }
func (b badgerLogger) Infof(f string, args ...any)    { b.log(slog.LevelDebug, f, args) }
func (b badgerLogger) Debugf(f string, args ...any)   { b.log(slog.LevelDebug, f, args) }

func (b badgerLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !b.l.Enabled(ctx, level) {
		return
	}
	b.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
