package esl

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Log levels of libesl (ESL_LOG_LEVEL_*), for SetLogLevel.
const (
	LogLevelEmerg   = 0
	LogLevelAlert   = 1
	LogLevelCrit    = 2
	LogLevelError   = 3
	LogLevelWarning = 4
	LogLevelNotice  = 5
	LogLevelInfo    = 6
	LogLevelDebug   = 7
)

var (
	logLevel  atomic.Int32 // -1: off (the default, like the SWIG bindings' null logger)
	logTarget atomic.Pointer[slog.Logger]
	stderr    io.Writer = os.Stderr
)

func init() { logLevel.Store(-1) }

// SetLogLevel is the twin of eslSetLogLevel: messages of the C library and of this package
// at level or more severe (a lower number) are logged, 0 (EMERG) to 7 (DEBUG); values above 7
// mean 7. Unlike the original, whose built-in logger prints to the terminal, the lines go to
// log/slog (see SetLogger), and a negative level turns logging off again.
func SetLogLevel(level int) {
	if level > LogLevelDebug {
		level = LogLevelDebug
	}
	if level < 0 {
		level = -1
	}
	logLevel.Store(int32(level))
	setCLogLevel(level)
}

// SetLogger chooses where log lines go; nil means slog.Default(). Lines are only produced
// after SetLogLevel.
func SetLogger(l *slog.Logger) { logTarget.Store(l) }

func slogLevel(level int) slog.Level {
	switch {
	case level <= LogLevelError:
		return slog.LevelError
	case level == LogLevelWarning:
		return slog.LevelWarn
	case level == LogLevelDebug:
		return slog.LevelDebug
	default:
		return slog.LevelInfo
	}
}

func logger() *slog.Logger {
	if l := logTarget.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// logEnabled reports whether a line at the libesl level would be logged.
func logEnabled(level int) bool { return level <= int(logLevel.Load()) }

// logC logs one line of the C library.
func logC(file, fn string, line, level int, msg string) {
	if !logEnabled(level) {
		return
	}
	logger().LogAttrs(context.Background(), slogLevel(level), strings.TrimRight(msg, "\r\n"),
		slog.String("source", "libesl"), slog.String("file", filepath.Base(file)),
		slog.String("func", fn), slog.Int("line", line), slog.Int("esl_level", level))
}

// logGo logs one line of this package.
func logGo(level int, msg string, attrs ...slog.Attr) {
	if !logEnabled(level) {
		return
	}
	logger().LogAttrs(context.Background(), slogLevel(level), msg, attrs...)
}

// Backend names the C library linked in: "csrc" (this repository's, the default),
// "libesl" (an original libesl, build tag libesl) or "none" (built without cgo).
func Backend() string { return backendName }

// HaveExtensions reports whether the linked library has csrc's extensions (WithLimits).
func HaveExtensions() bool { return haveExtensions }
